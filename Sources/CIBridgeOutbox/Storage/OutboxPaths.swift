/// Where each file of an outbox directory lives (docs/outbox.md, "Files"):
/// the one place their paths are built, for the outbox, its recovery and
/// ``OutboxInspector``.
public struct OutboxPaths: Sendable {
    let directory: String

    var segments: String { directory + "/segments" }
    var cursors: String { directory + "/cursors" }
    var deadLetters: String { directory + "/dead-letters" }
    var quarantine: String { directory + "/quarantine" }
    /// `flock`ed by the process that owns the outbox.
    var lock: String { directory + "/LOCK" }
    /// Space set aside for a full disk (``Outbox/reserveBytes``).
    var reserve: String { directory + "/reserve" }
    /// The subdirectories an outbox is made of.
    var subdirectories: [String] { [segments, cursors, deadLetters, quarantine] }

    /// The directory holding `path` (`.` for a bare name, `/` for a top-level one).
    public static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    func segment(base: UInt64) -> String { segments + "/" + Segment.fileName(base: base) }
    func cursor(_ sink: String) -> String { cursors + "/" + sink + CursorFile.suffix }
    func deadLetterLog(_ sink: String) -> String { deadLetters + "/" + sink + DeadLetterLog.suffix }

    /// The sinks that have a file in `subdirectory` with `suffix` (cursors, dead-letter logs).
    func sinks(in subdirectory: String, suffix: String, fileSystem: any OutboxFileSystem) -> [String] {
        ((try? fileSystem.list(subdirectory)) ?? []).filter { $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) }
    }
}
