/// When the outbox's I/O queue takes the next group commit: a pure policy,
/// with the clock passed in.
///
/// A group commit costs about the same whether it carries one record or
/// twenty: one `write`, one `fdatasync`, and a wake-up of every sink, which
/// then publishes a batch. Callbacks over HTTP arrive spread out, so committing
/// as soon as one waits gives small batches and pays those costs per callback
/// (docs/performance.md). Holding the next commit until `microseconds` after
/// the last one ended gathers what arrives meanwhile.
///
/// A hold ends early once three quarters of the recent crowd wait
/// (``releaseCount(peak:)``, with the peak from ``peak(after:batch:)``): a fixed
/// set of writers that append again at once (the outbox benchmark) would
/// otherwise wait out every window for a few stragglers, which then ride the
/// next commit. So one caller that waits for each answer is never held, two
/// are committed together, and over HTTP, where the callers of a batch come
/// back only much later, the window ends the hold.
public struct CommitWindow: Sendable, Hashable {
    /// The longest time from the end of one commit to the start of the next,
    /// in microseconds; 0 commits as soon as the queue gets to it.
    public var microseconds: Int64
    /// Appends waiting that start a commit without a hold.
    public var fullBatch: Int

    /// The default: 1 ms (docs/performance.md has what it gave).
    public static let standard = CommitWindow(microseconds: 1000)

    public init(microseconds: Int64, fullBatch: Int = 512) {
        self.microseconds = max(0, microseconds)
        self.fullBatch = max(1, fullBatch)
    }

    /// Microseconds to hold the pending batch before taking it, at most:
    /// the hold ends sooner once ``releaseCount(peak:)`` appends wait.
    /// - Parameters:
    ///   - now: the monotonic clock, in microseconds.
    ///   - lastCommitEnd: when the last commit ended on that clock; `nil` before the first.
    ///   - peak: the recent crowd (``peak(after:batch:)``).
    ///   - waiting: how many appends wait now (none: nothing to hold).
    public func delay(now: Int64, lastCommitEnd: Int64?, peak: Int, waiting: Int) -> Int64 {
        guard microseconds > 0, let lastCommitEnd, waiting > 0, waiting < releaseCount(peak: peak) else {
            return 0
        }
        let since = now - lastCommitEnd
        // A clock that seems to go back (it cannot, on CLOCK_MONOTONIC) never holds longer than the window.
        if since < 0 { return microseconds }
        return since >= microseconds ? 0 : microseconds - since
    }

    /// How many waiting appends end a hold: three quarters of the recent
    /// crowd (rounded up), at least one, at most a full batch.
    public func releaseCount(peak: Int) -> Int {
        min(max((peak * 3 + 3) / 4, 1), fullBatch)
    }

    /// The recent crowd after a commit of `batch`: the largest recent batch,
    /// forgotten by an eighth per commit. One small batch barely lowers it; a
    /// crowd that shrinks from 64 to 8 takes 12 commits, each held at most a
    /// window, to stop holding for the writers that left.
    public static func peak(after peak: Int, batch: Int) -> Int {
        max(batch, peak - (peak + 7) / 8)
    }
}
