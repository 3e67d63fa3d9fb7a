/// Which post-crash state one power cut produced.
public struct CutReport: Sendable, Hashable {
    /// Files with unsynced changes: all dropped, all kept, or kept up to a torn write.
    public var filesDropped = 0
    public var filesKept = 0
    public var filesTorn = 0
    /// Unsynced directory changes (creations, renames, removals, `mkdir`s) undone, and kept.
    public var entriesUndone = 0
    public var entriesKept = 0
    /// Files the cut could not rewrite to their post-crash contents: the state is
    /// not the one modelled, so the run counts it as a failure.
    public var unwritable: [String] = []
    /// The call an armed cut landed just before (`pwrite segment data`), or
    /// `nil` for a cut between calls.
    public var landedBefore: String?

    public init() {}

    /// One line, for logs: `files dropped/kept/torn 2/1/1, entries undone/kept 3/0`.
    public var summary: String {
        "files dropped/kept/torn \(filesDropped)/\(filesKept)/\(filesTorn), entries undone/kept \(entriesUndone)/\(entriesKept)"
    }
}
