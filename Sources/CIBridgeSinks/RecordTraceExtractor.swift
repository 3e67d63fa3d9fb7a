import Tracing

/// Reads the W3C trace context stored with a record (``RecordEnvelope/traceparent``,
/// ``RecordEnvelope/tracestate``), for a tracer's `extract`.
struct RecordTraceExtractor: Extractor {
    func extract(key: String, from carrier: RecordEnvelope) -> String? {
        switch key {
        case "traceparent": carrier.traceparent
        case "tracestate": carrier.tracestate
        default: nil
        }
    }
}
