/// Each `fsync`/`fdatasync` the outbox makes, named by what it protects
/// (docs/outbox.md, "Which fsync protects what"). ``PowerCutFileSystem`` can
/// ignore one site, as if that call were deleted from the code, to show that
/// the power-cut test notices.
public enum SyncSite: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `fdatasync` of a segment: appended records (the group commit), a new segment's header.
    case segmentData = "segment data"
    /// `fsync` of `segments/`: a new segment's entry (rotation), deleted segments.
    case segmentDirectory = "segments/ directory"
    /// `fdatasync` of a cursor's temporary file before its rename.
    case cursorData = "cursor data"
    /// `fsync` of `cursors/` after the rename.
    case cursorDirectory = "cursors/ directory"
    /// `fdatasync` of a dead-letter log.
    case deadLetterData = "dead-letter data"
    /// `fsync` of `dead-letters/` after a log is created.
    case deadLetterDirectory = "dead-letters/ directory"
    /// `fsync` of the outbox directory: its subdirectories, `LOCK`, `reserve`.
    case outboxDirectory = "outbox directory"
    /// `fsync` of the outbox directory's parent: the outbox directory itself.
    case parentDirectory = "parent directory"
    /// `fdatasync` and `fsync` of `rejected/` (refused bodies) and `quarantine/` (damaged bytes).
    case keptBodies = "rejected/ and quarantine/"
    /// Anything else (`reserve` data).
    case other = "other"

    public var description: String { rawValue }

    /// The site of a sync of `path`, a file (`isDirectory` false) or a directory, in the outbox at `root`.
    static func of(_ path: String, isDirectory: Bool, root: String) -> SyncSite {
        if isDirectory {
            if path == root { return .outboxDirectory }
            if !path.hasPrefix(root + "/") { return root.hasPrefix(path) ? .parentDirectory : .other }
        }
        guard path.hasPrefix(root + "/") else { return .other }
        let relative = path.dropFirst(root.count + 1)
        let top = relative.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        switch top {
        case "segments": return isDirectory ? .segmentDirectory : .segmentData
        case "cursors": return isDirectory ? .cursorDirectory : .cursorData
        case "dead-letters": return isDirectory ? .deadLetterDirectory : .deadLetterData
        case "rejected", "quarantine": return .keptBodies
        default: return .other
        }
    }
}
