/// Bounds that keep a hostile body from costing unbounded time or memory.
public struct DecoderLimits: Hashable, Sendable {
    /// Largest body accepted, in bytes. Default 1 MiB, the HTTP limit too.
    public var maxBodyBytes: Int
    /// Deepest element/object nesting accepted. Tencent's bodies stay under 10.
    public var maxDepth: Int
    /// Most elements, values and members in one body.
    public var maxNodes: Int

    public init(maxBodyBytes: Int = 1 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    /// The defaults.
    public static let standard = DecoderLimits()
}
