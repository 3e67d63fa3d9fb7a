import CIBridgeOutbox
import Metrics
import Prometheus
import Synchronization

/// The service's metrics, through swift-metrics, exported in Prometheus text format.
///
/// Counters and timers are recorded where things happen (callbacks, appends);
/// outbox and sink figures are gauges refreshed at each scrape from their
/// sources, so they cannot drift.
public struct BridgeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Called before each scrape to set the gauges (outbox, sinks).
    let refresh: @Sendable () -> Void

    private let bytes: Metrics.Counter
    private let events: Metrics.Counter
    private let duration: Metrics.Timer
    /// `cibridge_callbacks_total` per result and status, made once each: making a
    /// metric goes through the factory's lock and label handling on every call.
    private let outcomes: OutcomeCounters

    public init(registry: PrometheusCollectorRegistry, refresh: @escaping @Sendable () -> Void = {}) {
        self.registry = registry
        self.refresh = refresh
        self.bytes = Metrics.Counter(label: "cibridge_callback_bytes_total")
        self.events = Metrics.Counter(label: "cibridge_events_stored_total")
        self.duration = Metrics.Timer(label: "cibridge_http_request_duration_seconds", preferredDisplayUnit: .seconds)
        self.outcomes = OutcomeCounters()
    }

    /// A callback was answered: `result` is the outcome code (`accepted`, `test_ping`, `unauthorized`, `malformed_xml`, …).
    func callback(result: String, status: Int, bytes: Int, seconds: Double, events: Int) {
        outcomes.counter(result: result, status: status).increment()
        self.bytes.increment(by: bytes)
        if events > 0 { self.events.increment(by: events) }
        duration.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// The Prometheus text of every metric.
    func scrape() -> [UInt8] {
        refresh()
        return registry.emitToBuffer()
    }

    /// Sets the outbox gauges from a status snapshot.
    public static func record(_ status: OutboxStatus) {
        Gauge(label: "cibridge_outbox_records").record(status.records)
        Gauge(label: "cibridge_outbox_bytes").record(Double(status.bytes))
        Gauge(label: "cibridge_outbox_segments").record(status.segments)
        Gauge(label: "cibridge_outbox_quarantined").record(status.quarantined)
        for sink in status.sinks {
            Gauge(label: "cibridge_sink_pending", dimensions: [("sink", sink.name)]).record(sink.pending)
            Gauge(label: "cibridge_sink_oldest_pending_seconds", dimensions: [("sink", sink.name)])
                .record(Double(sink.oldestPendingAgeMilliseconds ?? 0) / 1000)
            Gauge(label: "cibridge_sink_dead_letters", dimensions: [("sink", sink.name)]).record(sink.deadLetters)
        }
    }

    /// Sets a sink's counters-as-gauges (totals since start, from the sink's own atomics).
    public static func recordSink(
        _ name: String, published: Int, duplicates: Int, retried: Int, deadLettered: Int, connected: Bool
    ) {
        Gauge(label: "cibridge_sink_connected", dimensions: [("sink", name)]).record(connected ? 1 : 0)
        Gauge(label: "cibridge_sink_published_total", dimensions: [("sink", name)]).record(published)
        Gauge(label: "cibridge_sink_duplicates_total", dimensions: [("sink", name)]).record(duplicates)
        Gauge(label: "cibridge_sink_retried_total", dimensions: [("sink", name)]).record(retried)
        Gauge(label: "cibridge_sink_dead_lettered_total", dimensions: [("sink", name)]).record(deadLettered)
    }
}

/// The callback counters made so far, by result and status.
final class OutcomeCounters: Sendable {
    private let counters = Mutex<[String: Metrics.Counter]>([:])

    func counter(result: String, status: Int) -> Metrics.Counter {
        let key = "\(status) \(result)"
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: "cibridge_callbacks_total", dimensions: [("result", result), ("status", String(status))])
            counters[key] = counter
            return counter
        }
    }
}
