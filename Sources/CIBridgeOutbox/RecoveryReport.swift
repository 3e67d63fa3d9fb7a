/// What opening an outbox found and did.
public struct RecoveryReport: Sendable, Hashable {
    /// Bytes cut from the end of segments: a write torn by a crash (or damage there).
    /// The bytes are kept in `quarantine/`.
    public var truncatedTailBytes: Int64 = 0
    /// Damaged ranges in the middle of segments moved to `quarantine/` at this open.
    public var quarantinedRegions = 0
    /// Every quarantined range over the outbox's life (files in `quarantine/`).
    public var quarantinedTotal = 0
    /// Sinks whose cursor file was missing or damaged, restarted from the oldest record.
    public var resetCursors: [String] = []
    /// Segments and records found.
    public var segments = 0
    public var records = 0
    /// The outbox directory did not exist: this is a new, empty outbox. If one
    /// was expected here (a restart), its state is gone: say so loudly.
    public var created = false
    /// One line per repair, for the log.
    public var notes: [String] = []
}
