/// Why `cibridge top` could not read a bridge: what kind, and one line for humans.
public struct TopError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// `/metrics` could not be fetched: refused, timed out, or not a 200.
        case unreachable
        /// The answer is not Prometheus text (the line is in the message).
        case malformed
        /// A `--url` that cannot be used.
        case configuration
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The stable code: the kind's name.
    public var code: String { kind.rawValue }
    public var description: String { message }
}
