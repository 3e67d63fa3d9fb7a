/// Why an attribute template cannot be used: a stable code, one line, and the
/// 1-based character position in the template where the problem is.
public struct TemplateError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The template is empty.
        public static let empty = Code(rawValue: "template_empty")
        /// A `{` without its `}`, a `}` without its `{`, or braces inside braces.
        public static let unbalancedBraces = Code(rawValue: "template_unbalanced_braces")
        /// `{}`, or a name that is not a CloudEvents attribute name (`a-z`, `0-9`).
        public static let badAttributeName = Code(rawValue: "template_bad_attribute_name")
        /// Text the destination does not allow in a name (e.g. `/` in a Kafka topic).
        public static let badCharacter = Code(rawValue: "template_bad_character")
        /// An attribute no envelope has (``Envelope/attributeNames``): a typo would
        /// otherwise render `none` for every event.
        public static let unknownAttribute = Code(rawValue: "template_unknown_attribute")
        /// Longer than the destination allows, before any attribute is filled in.
        public static let tooLong = Code(rawValue: "template_too_long")
    }

    public let code: Code
    public let message: String
    /// 1-based character position in the template (0 when the whole template is meant).
    public let position: Int

    public init(_ code: Code, _ message: String, position: Int) {
        self.code = code
        self.message = message
        self.position = position
    }

    public var description: String { position > 0 ? "\(message) (at character \(position))" : message }
}
