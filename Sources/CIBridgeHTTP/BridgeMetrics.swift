import CIBridgeOutbox
import Metrics
import Synchronization
import Prometheus

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
    /// The outbox append alone, recorded by ``CallbackIntake``.
    private let appendDuration: Metrics.Timer
    /// Connections closed by ``RequestDeadline`` because no request head arrived in time.
    let headTimeouts: Metrics.Counter
    /// Refused bodies that could not be written to the quarantine.
    let quarantineErrors: Metrics.Counter
    /// `cibridge_callbacks_total` per result and status: the one owner of these
    /// counters, for the route's answers and ``RequestDeadline``'s 408 alike.
    private let outcomes: OutcomeCounters
    private let factory: PrometheusMetricsFactory
    private let tlsReloadsSucceeded: Metrics.Counter
    private let tlsReloadsFailed: Metrics.Counter

    /// Metrics kept in `registry`.
    ///
    /// The callback metrics are made with a factory on `registry` rather than
    /// through `MetricsSystem`, which can be bootstrapped once per process: each
    /// application (each test) counts in its own registry. `cibridge serve`
    /// bootstraps `MetricsSystem` with the same registry, so one scrape shows all.
    public init(registry: PrometheusCollectorRegistry, refresh: @escaping @Sendable () -> Void = {}) {
        self.registry = registry
        self.refresh = refresh
        let factory = PrometheusMetricsFactory(registry: registry)
        self.bytes = Metrics.Counter(label: "cibridge_callback_bytes_total", factory: factory)
        self.events = Metrics.Counter(label: "cibridge_events_stored_total", factory: factory)
        self.duration = Metrics.Timer(label: "cibridge_http_request_duration_seconds", factory: factory)
        self.appendDuration = Metrics.Timer(label: "cibridge_outbox_append_duration_seconds", factory: factory)
        self.headTimeouts = Metrics.Counter(label: "cibridge_http_head_timeouts_total", factory: factory)
        self.quarantineErrors = Metrics.Counter(label: "cibridge_quarantine_errors_total", factory: factory)
        self.outcomes = OutcomeCounters(factory: factory)
        self.factory = factory
        self.tlsReloadsSucceeded = Metrics.Counter(label: "cibridge_tls_reloads_total", dimensions: [("result", "ok")], factory: factory)
        self.tlsReloadsFailed = Metrics.Counter(label: "cibridge_tls_reloads_total", dimensions: [("result", "failed")], factory: factory)
        // Every series at zero from the start (see CallbackOutcome.everyKind).
        for outcome in CallbackOutcome.everyKind {
            _ = outcomes.counter(result: outcome.code, status: Int(outcome.status.code))
            if outcome.isRefusal { _ = outcomes.refused(reason: outcome.code) }
        }
        _ = outcomes.refused(reason: "quarantine_error")
    }

    /// A callback was answered by the route.
    func record(_ outcome: CallbackOutcome, bodyBytes: Int, duration: Duration) {
        record(outcome)
        bytes.increment(by: bodyBytes)
        let events = outcome.eventCount
        if events > 0 { self.events.increment(by: events) }
        self.duration.record(duration)
    }

    /// An outbox append took `duration` (write and group-committed `fdatasync`).
    func recordAppend(_ duration: Duration) {
        appendDuration.record(duration)
    }

    /// A callback was answered (by the route, or with 408 by ``RequestDeadline``).
    func record(_ outcome: CallbackOutcome) {
        outcomes.counter(result: outcome.code, status: Int(outcome.status.code)).increment()
        if outcome.isRefusal { outcomes.refused(reason: outcome.code).increment() }
    }

    /// A refused body could not be kept in the quarantine: it may be lost too.
    func recordQuarantineFailure() {
        quarantineErrors.increment()
        outcomes.refused(reason: "quarantine_error").increment()
    }

    /// The served certificate's end of validity, as a Unix time:
    /// `cibridge_tls_certificate_expiry_timestamp_seconds` (the alert compares it with `time()`).
    public func recordCertificate(_ material: TLSMaterial) {
        Gauge(label: "cibridge_tls_certificate_expiry_timestamp_seconds", factory: factory)
            .record(material.notValidAfter.timeIntervalSince1970)
        Gauge(label: "cibridge_tls_reload_failing", factory: factory).record(0)
    }

    /// A certificate reload: `cibridge_tls_reloads_total{result="ok"|"failed"}`,
    /// and `cibridge_tls_reload_failing`, 1 from a failed reload until one
    /// works (what the alert watches: a failure that a later reload fixed is
    /// history, not a problem).
    public func recordTLSReload(succeeded: Bool) {
        (succeeded ? tlsReloadsSucceeded : tlsReloadsFailed).increment()
        Gauge(label: "cibridge_tls_reload_failing", factory: factory).record(succeeded ? 0 : 1)
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

    /// Sets the group-commit counters-as-gauges (totals since start).
    public static func record(_ commits: CommitCounts) {
        Gauge(label: "cibridge_outbox_commits_total").record(commits.commits)
        Gauge(label: "cibridge_outbox_committed_appends_total").record(commits.appends)
    }

    /// Sets a sink's counters-as-gauges (totals since start, from the sink's own atomics).
    /// - Parameter endpoint: the server it writes to now: `cibridge_sink_endpoint_info{sink,endpoint}`
    ///   is 1 for it, and 0 for the one before.
    public static func recordSink(
        _ name: String, published: Int, duplicates: Int, retried: Int, deadLettered: Int, connected: Bool,
        endpoint: String? = nil
    ) {
        Gauge(label: "cibridge_sink_connected", dimensions: [("sink", name)]).record(connected ? 1 : 0)
        if let endpoint {
            let previous = lastEndpoints.withLock { last -> String? in
                defer { last[name] = endpoint }
                return last[name]
            }
            if let previous, previous != endpoint {
                Gauge(label: "cibridge_sink_endpoint_info", dimensions: [("sink", name), ("endpoint", previous)]).record(0)
            }
            Gauge(label: "cibridge_sink_endpoint_info", dimensions: [("sink", name), ("endpoint", endpoint)]).record(1)
        }
        Gauge(label: "cibridge_sink_published_total", dimensions: [("sink", name)]).record(published)
        Gauge(label: "cibridge_sink_duplicates_total", dimensions: [("sink", name)]).record(duplicates)
        Gauge(label: "cibridge_sink_retried_total", dimensions: [("sink", name)]).record(retried)
        Gauge(label: "cibridge_sink_dead_lettered_total", dimensions: [("sink", name)]).record(deadLettered)
    }
}

/// Each sink's endpoint at the last refresh, to clear the old series when it changes.
private let lastEndpoints = Mutex<[String: String]>([:])

extension Metrics.Timer {
    /// Records `duration` in nanoseconds.
    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
