/// What one frame of `cibridge top` shows, computed from two scrapes by
/// ``TopModel``. Rates are nil on the first frame (nothing to compare with).
public struct TopView: Sendable, Equatable {
    /// One `result` of `cibridge_callbacks_total`.
    public struct Outcome: Sendable, Equatable {
        public var result: String
        /// The HTTP statuses this result was answered with.
        public var statuses: [String]
        public var perSecond: Double?
        public var total: Double

        public init(result: String, statuses: [String], perSecond: Double?, total: Double) {
            self.result = result
            self.statuses = statuses
            self.perSecond = perSecond
            self.total = total
        }
    }

    /// One sink, from the `cibridge_sink_*` gauges.
    public struct Sink: Sendable, Equatable {
        public var name: String
        /// nil when the bridge does not say.
        public var connected: Bool?
        public var backlog: Double
        public var oldestPendingSeconds: Double
        public var deliveredPerSecond: Double?
        public var retries: Double
        public var deadLetters: Double
        /// The backlog at each of the last frames, oldest first.
        public var backlogHistory: [Double]

        public init(
            name: String, connected: Bool?, backlog: Double, oldestPendingSeconds: Double, deliveredPerSecond: Double?,
            retries: Double, deadLetters: Double, backlogHistory: [Double]
        ) {
            self.name = name
            self.connected = connected
            self.backlog = backlog
            self.oldestPendingSeconds = oldestPendingSeconds
            self.deliveredPerSecond = deliveredPerSecond
            self.retries = retries
            self.deadLetters = deadLetters
            self.backlogHistory = backlogHistory
        }
    }

    public var source: String
    /// Seconds between the two scrapes, nil on the first frame.
    public var interval: Double?
    public var outcomes: [Outcome]
    public var intakePerSecond: Double?
    /// Request latency over the interval (since the start on the first frame);
    /// nil when no request was answered.
    public var latencyP50: Double?
    public var latencyP99: Double?
    /// Answers that stored nothing (`cibridge_callbacks_refused_total`).
    public var refused: Double
    public var outboxRecords: Double?
    public var outboxBytes: Double?
    public var outboxSegments: Double?
    public var quarantined: Double?
    public var sinks: [Sink]
    /// Set while the bridge cannot be read; the figures are then the last ones read.
    public var unreachable: String?

    public init(
        source: String, interval: Double?, outcomes: [Outcome], intakePerSecond: Double?, latencyP50: Double?,
        latencyP99: Double?, refused: Double, outboxRecords: Double?, outboxBytes: Double?, outboxSegments: Double?,
        quarantined: Double?, sinks: [Sink], unreachable: String?
    ) {
        self.source = source
        self.interval = interval
        self.outcomes = outcomes
        self.intakePerSecond = intakePerSecond
        self.latencyP50 = latencyP50
        self.latencyP99 = latencyP99
        self.refused = refused
        self.outboxRecords = outboxRecords
        self.outboxBytes = outboxBytes
        self.outboxSegments = outboxSegments
        self.quarantined = quarantined
        self.sinks = sinks
        self.unreachable = unreachable
    }
}
