import CIBridgeOutbox
import Synchronization
import Tracing

/// One span per publish attempt, for every sink alike: from the moment the
/// outbox hands a record to the sink until the destination's answer resolves
/// it (Kafka's delivery report, Redis's reply), as a child of the trace
/// context stored with the record. A retry ends its span with an error and
/// the next attempt gets a span of its own.
///
/// An ``Outbox`` ``DeliveryObserver``: the adapters know nothing of it.
/// Only made when spans are exported (`tracing.otlp_endpoint`).
public final class PublishSpans: DeliveryObserver {
    private struct Key: Hashable {
        let sink: String
        let sequence: UInt64
    }

    /// Confinement: the spans of attempts not yet resolved, at most the sinks'
    /// in-flight records; taken briefly by the sinks' threads.
    private let open = Mutex<[Key: any Span]>([:])

    public init() {}

    public func handedOut(sink: String, records: [OutboxRecord]) {
        var started: [(Key, any Span)] = []
        started.reserveCapacity(records.count)
        for record in records {
            let envelope = RecordEnvelope(record)
            var context = ServiceContext.topLevel
            InstrumentationSystem.instrument.extract(envelope, into: &context, using: RecordTraceExtractor())
            let span = startSpan("publish \(sink)", context: context, ofKind: .producer)
            span.attributes["messaging.system"] = sink
            span.attributes["messaging.destination.partition.key"] = record.key
            span.attributes["cibridge.outbox.sequence"] = Int64(record.sequence)
            if let id = envelope["id"] { span.attributes["cloudevents.event_id"] = id }
            if let type = envelope["type"] { span.attributes["cloudevents.event_type"] = type }
            started.append((Key(sink: sink, sequence: record.sequence), span))
        }
        let replaced = open.withLock { open in
            started.compactMap { key, span in open.updateValue(span, forKey: key) }
        }
        // A record handed out again before its first attempt was resolved (a
        // rewind, which serve does not do while running): the old span ends
        // here, and a late answer to the old attempt then ends the new one.
        for span in replaced { span.end() }
    }

    public func resolved(sink: String, sequence: UInt64, outcome: DeliveryOutcome) {
        guard let span = open.withLock({ $0.removeValue(forKey: Key(sink: sink, sequence: sequence)) }) else { return }
        switch outcome {
        case .delivered:
            span.attributes["cibridge.delivery.outcome"] = "delivered"
        case .duplicate:
            span.attributes["cibridge.delivery.outcome"] = "duplicate"
        case .retry(let failure):
            span.attributes["cibridge.delivery.outcome"] = "retry"
            span.attributes["error.type"] = failure.code
            span.setStatus(SpanStatus(code: .error, message: failure.message))
        case .deadLetter(let failure):
            span.attributes["cibridge.delivery.outcome"] = "dead_letter"
            span.attributes["error.type"] = failure.code
            span.setStatus(SpanStatus(code: .error, message: failure.message))
        }
        span.end()
    }
}
