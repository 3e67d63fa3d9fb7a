/// How an outbox stores, limits and retains records.
public struct OutboxConfiguration: Sendable, Hashable {
    /// When an append is on disk before ``Outbox/append(_:)`` returns.
    public enum FsyncPolicy: Sendable, Hashable {
        /// `fdatasync` before every append returns (group-committed). The default:
        /// an acknowledged callback survives a power cut.
        case always
        /// Appends return once written to the kernel; `fdatasync` runs at most this
        /// many milliseconds later. A power cut (not a process crash) can lose up to
        /// that window of acknowledged callbacks.
        case interval(milliseconds: Int)
    }

    /// The sinks records are delivered to; each has its own cursor.
    public var sinks: [String]
    /// A new segment file is started when the current one would grow past this.
    public var segmentBytes: Int64
    public var fsync: FsyncPolicy
    /// How long the next group commit waits for more appends while they
    /// arrive together (see ``CommitWindow``); applies to both fsync policies.
    public var commitWindow: CommitWindow
    /// Appends fail with `outbox_full` once the segments take this many bytes.
    public var maxBytes: Int64
    /// Appends fail with `disk_low` when the filesystem has less free space than this.
    public var minFreeBytes: Int64
    /// Delivered records are kept at least this long for replay (`rewind`), in seconds…
    public var retentionSeconds: Int64
    /// …unless delivered records take more than this many bytes (oldest go first).
    public var retentionBytes: Int64
    /// Backoff for `retry` without an explicit delay.
    public var retry: RetryPolicy
    /// At most this many records handed to one sink and not yet acknowledged.
    public var maxInFlightPerSink: Int
    /// How often cursors are persisted and delivered segments deleted, in
    /// milliseconds. Tests shorten it to crowd more of both between power cuts.
    public var maintenanceMilliseconds: Int = 200

    public init(
        sinks: [String],
        segmentBytes: Int64 = 64 << 20,
        fsync: FsyncPolicy = .always,
        commitWindow: CommitWindow = .standard,
        maxBytes: Int64 = 10 << 30,
        minFreeBytes: Int64 = 512 << 20,
        retentionSeconds: Int64 = 24 * 3600,
        retentionBytes: Int64 = 1 << 30,
        retry: RetryPolicy = RetryPolicy(),
        maxInFlightPerSink: Int = 10_000
    ) {
        self.sinks = sinks
        self.segmentBytes = segmentBytes
        self.fsync = fsync
        self.commitWindow = commitWindow
        self.maxBytes = maxBytes
        self.minFreeBytes = minFreeBytes
        self.retentionSeconds = retentionSeconds
        self.retentionBytes = retentionBytes
        self.retry = retry
        self.maxInFlightPerSink = maxInFlightPerSink
    }
}
