/// A parsed body before canonicalisation: what the XML or JSON said, nothing decided yet.
///
/// XML elements become ``object(_:)`` with members in document order, repeated
/// names allowed; JSON gives arrays and typed scalars as their literal text.
public indirect enum RawNode: Sendable, Hashable {
    /// A scalar's text: XML character data, a JSON string's value, or a JSON
    /// number/boolean literal as written (`0`, `320`, `false`).
    case scalar(String)
    /// A JSON array.
    case array([RawNode])
    /// An XML element with children, or a JSON object. Names may repeat.
    case object([RawMember])
    /// JSON `null`.
    case null
}

/// One named child of a ``RawNode/object(_:)``.
public struct RawMember: Sendable, Hashable {
    public let name: String
    public let value: RawNode

    public init(_ name: String, _ value: RawNode) {
        self.name = name
        self.value = value
    }
}
