/// How often ``PowerCutFileSystem`` makes a call fail the way a real disk does.
/// Each is a probability per call, from 0 (never) to 1.
public struct FaultPlan: Sendable, Hashable {
    /// `fdatasync` of a segment fails with EIO ("fsyncgate": the kernel may
    /// have dropped the dirty pages; the outbox must refuse further appends).
    public var syncFailure: Double
    /// A write stops part-way with ENOSPC: a prefix reached the file.
    public var noSpace: Double
    /// `pwrite` writes only part of what it was given, without an error.
    public var shortWrite: Double

    public init(syncFailure: Double = 0, noSpace: Double = 0, shortWrite: Double = 0) {
        self.syncFailure = syncFailure
        self.noSpace = noSpace
        self.shortWrite = shortWrite
    }

    /// No injected errors: power cuts only.
    public static let none = FaultPlan()
}
