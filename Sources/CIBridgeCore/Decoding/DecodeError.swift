/// Why a callback body could not be decoded.
///
/// Every error has a stable ``code`` (for metrics, logs and tests), a one-line
/// human ``message``, and where it applies the ``position`` in the body.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The body is empty or only whitespace.
        public static let emptyBody = Code(rawValue: "empty_body")
        /// The body is larger than ``DecoderLimits/maxBodyBytes``.
        public static let bodyTooLarge = Code(rawValue: "body_too_large")
        /// The body is not valid UTF-8.
        public static let invalidUTF8 = Code(rawValue: "invalid_utf8")
        /// The body is neither XML nor JSON.
        public static let unknownFormat = Code(rawValue: "unknown_format")
        /// The XML is not well-formed.
        public static let malformedXML = Code(rawValue: "malformed_xml")
        /// The XML declares a DTD or entities; they are refused, never expanded.
        public static let forbiddenDTD = Code(rawValue: "forbidden_dtd")
        /// The XML declares an encoding other than UTF-8.
        public static let unsupportedEncoding = Code(rawValue: "unsupported_encoding")
        /// The JSON is not well-formed.
        public static let malformedJSON = Code(rawValue: "malformed_json")
        /// Nesting is deeper than ``DecoderLimits/maxDepth``.
        public static let tooDeep = Code(rawValue: "too_deep")
        /// More nodes than ``DecoderLimits/maxNodes``.
        public static let tooManyNodes = Code(rawValue: "too_many_nodes")
        /// Well-formed, but not a callback: wrong root or no recognisable shape.
        public static let notACallback = Code(rawValue: "not_a_callback")

        /// Every code above, so that metrics can export each at zero from the
        /// start (Prometheus's `increase()` cannot see a series' first sample).
        public static let all: [Code] = [
            .emptyBody, .bodyTooLarge, .invalidUTF8, .unknownFormat, .malformedXML, .forbiddenDTD, .unsupportedEncoding,
            .malformedJSON, .tooDeep, .tooManyNodes, .notACallback,
        ]
    }

    /// The stable reason.
    public let code: Code
    /// One line, for humans.
    public let message: String
    /// Where in the body, when the error has a position.
    public let position: SourcePosition?

    public init(_ code: Code, _ message: String, at position: SourcePosition? = nil) {
        self.code = code
        self.message = Self.oneLine(message)
        self.position = position
    }

    /// Messages quote bits of the body (a name, an encoding): control
    /// characters are escaped and the message is cut at 200 characters, so a
    /// hostile body can neither forge log lines nor inflate them.
    static func oneLine(_ message: String, limit: Int = 200) -> String {
        var result = ""
        var length = 0  // scalars in `result` so far
        for scalar in message.unicodeScalars {
            if length >= limit {
                result += "…"
                break
            }
            let escaped: String
            switch scalar {
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029:
                escaped = "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                result.unicodeScalars.append(scalar)
                length += 1
                continue
            }
            result += escaped
            length += escaped.unicodeScalars.count
        }
        return result
    }

    /// `LINE:COLUMN: message`, or just the message when there is no position.
    public var description: String {
        if let position { return "\(position.line):\(position.column): \(message)" }
        return message
    }
}
