/// Turns successive scrapes of one bridge into ``TopView`` frames. It keeps
/// the previous scrape (for rates and the latency of the last interval) and a
/// bounded backlog history per sink (for the sparkline). Pure: the caller
/// fetches and supplies the time, so it is tested without a bridge or a clock.
public struct TopModel: Sendable {
    public let source: String
    /// How many frames of backlog history each sink keeps.
    public let historyLength: Int
    private var previous: MetricsScrape?
    private var history: [String: [Double]] = [:]
    private var last: TopView?

    public init(source: String, historyLength: Int = 60) {
        self.source = source
        self.historyLength = max(1, historyLength)
    }

    /// The frame for a new scrape.
    public mutating func update(_ scrape: MetricsScrape) -> TopView {
        let interval = previous.map { scrape.time - $0.time }.flatMap { $0 > 0 ? $0 : nil }
        let before = interval == nil ? nil : previous

        func rate(_ current: Double?, _ earlier: Double?) -> Double? {
            guard let interval, let current, let earlier else { return nil }
            // A counter that went down: the bridge restarted; what it shows is all since then.
            return current >= earlier ? (current - earlier) / interval : current / interval
        }

        var outcomes: [TopView.Outcome] = []
        for result in scrape.labelValues("cibridge_callbacks_total", "result") {
            let series = scrape.series("cibridge_callbacks_total", matching: ["result": result])
            let total = series.reduce(0) { $0 + $1.value }
            let earlier = before?.sum("cibridge_callbacks_total", matching: ["result": result]) ?? (before == nil ? nil : 0)
            outcomes.append(TopView.Outcome(
                result: result,
                statuses: Array(Set(series.compactMap { $0.labels["status"] })).sorted(),
                perSecond: rate(total, earlier),
                total: total))
        }
        outcomes.sort { ($0.perSecond ?? 0, $0.total, $1.result) > ($1.perSecond ?? 0, $1.total, $0.result) }
        let intake = rate(scrape.sum("cibridge_callbacks_total") ?? 0, before.map { $0.sum("cibridge_callbacks_total") ?? 0 })

        let histogram = "cibridge_http_request_duration_seconds"
        let buckets = before.map { HistogramQuantile.difference(scrape.buckets(histogram), $0.buckets(histogram)) }
            ?? scrape.buckets(histogram)

        var sinks: [TopView.Sink] = []
        for name in scrape.labelValues("cibridge_sink_pending", "sink") {
            let matching = ["sink": name]
            let backlog = scrape.sum("cibridge_sink_pending", matching: matching) ?? 0
            var kept = history[name, default: []]
            kept.append(backlog)
            if kept.count > historyLength { kept.removeFirst(kept.count - historyLength) }
            history[name] = kept
            sinks.append(TopView.Sink(
                name: name,
                connected: scrape.sum("cibridge_sink_connected", matching: matching).map { $0 > 0 },
                backlog: backlog,
                oldestPendingSeconds: scrape.sum("cibridge_sink_oldest_pending_seconds", matching: matching) ?? 0,
                deliveredPerSecond: rate(Self.delivered(scrape, matching), before.flatMap { Self.delivered($0, matching) }),
                retries: scrape.sum("cibridge_sink_retried_total", matching: matching) ?? 0,
                deadLetters: scrape.sum("cibridge_sink_dead_letters", matching: matching) ?? 0,
                backlogHistory: kept))
        }

        let view = TopView(
            source: source,
            interval: interval,
            outcomes: outcomes,
            intakePerSecond: intake,
            latencyP50: HistogramQuantile.quantile(0.5, buckets: buckets),
            latencyP99: HistogramQuantile.quantile(0.99, buckets: buckets),
            refused: scrape.sum("cibridge_callbacks_refused_total") ?? 0,
            outboxRecords: scrape.sum("cibridge_outbox_records"),
            outboxBytes: scrape.sum("cibridge_outbox_bytes"),
            outboxSegments: scrape.sum("cibridge_outbox_segments"),
            quarantined: scrape.sum("cibridge_outbox_quarantined"),
            sinks: sinks,
            unreachable: nil)
        previous = scrape
        last = view
        return view
    }

    /// Records the sink has finished: published, plus those the destination
    /// already had (a duplicate is delivered too; its backlog drains the same).
    static func delivered(_ scrape: MetricsScrape, _ matching: [String: String]) -> Double? {
        guard let published = scrape.sum("cibridge_sink_published_total", matching: matching) else { return nil }
        return published + (scrape.sum("cibridge_sink_duplicates_total", matching: matching) ?? 0)
    }

    /// The frame when a scrape failed: the last figures, marked unreachable.
    /// Rates restart from the next good scrape.
    public mutating func failed(_ error: TopError) -> TopView {
        previous = nil
        var view = last ?? TopView(
            source: source, interval: nil, outcomes: [], intakePerSecond: nil, latencyP50: nil, latencyP99: nil,
            refused: 0, outboxRecords: nil, outboxBytes: nil, outboxSegments: nil, quarantined: nil, sinks: [],
            unreachable: nil)
        view.unreachable = error.message
        return view
    }
}
