/// How many group commits an outbox made, how many appends they served, and
/// how the commit window held them (``CommitWindow``).
public struct CommitCounts: Sendable, Hashable {
    /// Batches taken by the I/O queue: one `write` (and, with `fsync: always`, one `fdatasync`) each.
    public var commits = 0
    /// ``Outbox/append(_:)`` calls those batches carried.
    public var appends = 0
    /// Commits that were held for more appends first.
    public var holds = 0
    /// Holds that ended because enough appends were waiting, not because the window ran out.
    public var releases = 0

    public init(commits: Int = 0, appends: Int = 0, holds: Int = 0, releases: Int = 0) {
        self.commits = commits
        self.appends = appends
        self.holds = holds
        self.releases = releases
    }
}
