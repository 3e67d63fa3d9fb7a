/// What a destination allows in the names templates produce (a Kafka topic,
/// a Redis key): checked in a template's own text at configuration time, and
/// applied to attribute values when a name is rendered.
public struct NameRules: Sendable {
    /// The longest name; longer rendered names are cut.
    public let maxLength: Int
    /// Whether a character may appear; `nil`: every character may.
    public let allows: (@Sendable (Character) -> Bool)?
    /// What an attribute value's disallowed characters become.
    public let replacement: Character

    public init(maxLength: Int, allows: (@Sendable (Character) -> Bool)?, replacement: Character = "_") {
        self.maxLength = maxLength
        self.allows = allows
        self.replacement = replacement
    }

    /// Any character, any length (Redis keys are binary-safe).
    public static let any = NameRules(maxLength: .max, allows: nil)
}
