/// A strict RFC 8259 JSON parser producing canonical values through a
/// ``Canonicalizer`` as each object closes.
///
/// Numbers and booleans are kept as the literal text the sender wrote, because
/// the canonical form turns every scalar into its string form and a round trip
/// through `Double` would change it (`1.50` is not `1.5`). Errors carry the
/// position; depth and node count are bounded by ``DecoderLimits``.
struct JSONTreeParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let limits: DecoderLimits
    private let canonicalizer: Canonicalizer
    private var index = 0
    private var nodeCount = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: DecoderLimits, canonicalizer: Canonicalizer) {
        self.bytes = bytes
        self.limits = limits
        self.canonicalizer = canonicalizer
    }

    /// Parses a document whose root must be an object; returns its canonical
    /// value (`nil` when it is empty).
    mutating func parseDocument() throws(DecodeError) -> CanonicalValue? {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        guard index < bytes.count else { throw error(.emptyBody, "empty JSON document") }
        if bytes[index] != UInt8(ascii: "{") {
            let found = bytes[index] == UInt8(ascii: "[") ? "an array" : "\(describeByte(at: index))"
            throw error(.notACallback, "JSON root must be an object, found \(found)")
        }
        var root: [CanonicalMember] = []
        try parseValue(depth: 1, name: "Response", into: &root)
        skipWhitespace()
        guard index == bytes.count else {
            throw error(.malformedJSON, "unexpected \(describeByte(at: index)) after the JSON document")
        }
        return root.first?.value
    }

    /// Parses one value as member `name` and appends what it contributes to
    /// `entries`: nothing when empty, one entry, or one per element of an array.
    private mutating func parseValue(depth: Int, name: String, into entries: inout [CanonicalMember]) throws(DecodeError) {
        skipWhitespace()
        guard index < bytes.count else { throw error(.malformedJSON, "unexpected end of input, expected a value") }
        let start = index
        nodeCount += 1
        if nodeCount > limits.maxNodes {
            throw error(.tooManyNodes, "more than \(limits.maxNodes) JSON values")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth <= limits.maxDepth else {
                throw error(.tooDeep, "objects and arrays nested deeper than \(limits.maxDepth) levels")
            }
            if let value = try parseObject(depth: depth, name: name) { entries.append(CanonicalMember(name, value)) }
        case UInt8(ascii: "["):
            guard depth <= limits.maxDepth else {
                throw error(.tooDeep, "objects and arrays nested deeper than \(limits.maxDepth) levels")
            }
            try parseArray(depth: depth, name: name, into: &entries)
        case UInt8(ascii: "\""):
            if let value = canonicalizer.scalar(try parseString()) { entries.append(CanonicalMember(name, value)) }
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            entries.append(CanonicalMember(name, .string("true")))
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            entries.append(CanonicalMember(name, .string("false")))
        case UInt8(ascii: "n"):
            try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            entries.append(CanonicalMember(name, .string(literal)))
        default:
            throw error(.malformedJSON, "unexpected \(describeByte(at: index)), expected a value")
        }
    }

    private mutating func parseObject(depth: Int, name: String) throws(DecodeError) -> CanonicalValue? {
        index += 1  // '{'
        var members: [CanonicalMember] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return nil
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error(.malformedJSON, "expected a quoted member name, found \(describeByte(at: index))")
            }
            let memberName = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error(.malformedJSON, "expected ':' after member name \"\(memberName)\"")
            }
            index += 1
            try parseValue(depth: depth + 1, name: memberName, into: &members)
            skipWhitespace()
            guard index < bytes.count else { throw error(.malformedJSON, "unterminated object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return canonicalizer.object(&members, name: name)
            }
            throw error(.malformedJSON, "expected ',' or '}' in object, found \(describeByte(at: index))")
        }
    }

    /// An array contributes each element as another occurrence of `name`,
    /// the way repeated XML elements do; nested arrays are flattened.
    private mutating func parseArray(depth: Int, name: String, into entries: inout [CanonicalMember]) throws(DecodeError) {
        index += 1  // '['
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try parseValue(depth: depth + 1, name: name, into: &entries)
            skipWhitespace()
            guard index < bytes.count else { throw error(.malformedJSON, "unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return
            }
            throw error(.malformedJSON, "expected ',' or ']' in array, found \(describeByte(at: index))")
        }
    }

    private mutating func parseString() throws(DecodeError) -> String {
        let quoteStart = index
        index += 1  // '"'
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return value
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error(.malformedJSON, "unescaped control character in string") }
            index += 1
        }
        guard index < bytes.count else { throw error(.malformedJSON, "unterminated string", at: quoteStart) }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if byte < 0x20 { throw error(.malformedJSON, "unescaped control character in string") }
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
                index += 1
                continue
            }
            let escapeStart = index
            index += 1
            guard index < bytes.count else { break }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var value = try parseHex4(escapeStart: escapeStart)
                if (0xD800...0xDBFF).contains(value) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error(.malformedJSON, "unpaired surrogate \\u\(String(value, radix: 16)) in string", at: escapeStart)
                    }
                    index += 2
                    let low = try parseHex4(escapeStart: escapeStart)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error(.malformedJSON, "invalid surrogate pair in string", at: escapeStart)
                    }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(value) {
                    throw error(.malformedJSON, "unpaired surrogate \\u\(String(value, radix: 16)) in string", at: escapeStart)
                }
                buffer.append(contentsOf: String(Character(Unicode.Scalar(value)!)).utf8)
            default:
                throw error(.malformedJSON, "invalid escape '\\\(describeByte(at: index - 1))' in string", at: escapeStart)
            }
        }
        throw error(.malformedJSON, "unterminated string", at: quoteStart)
    }

    private mutating func parseHex4(escapeStart: Int) throws(DecodeError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error(.malformedJSON, "truncated \\u escape", at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error(.malformedJSON, "invalid hex digit in \\u escape", at: escapeStart)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Validates the RFC 8259 number grammar, leaving `index` after the number.
    private mutating func scanNumber() throws(DecodeError) {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw error(.malformedJSON, "invalid number", at: start)
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw error(.malformedJSON, "leading zeros are not allowed in numbers", at: start)
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw error(.malformedJSON, "expected a digit after '.' in number", at: start)
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw error(.malformedJSON, "expected a digit in the exponent", at: start)
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(DecodeError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected -> Bool in
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != expected[offset] { return false }
            return true
        }
        guard matches else { throw error(.malformedJSON, "invalid literal, expected '\(literal)'", at: start) }
        index += count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            index += 1
        }
    }

    private func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    private func error(_ code: DecodeError.Code, _ message: String, at offset: Int? = nil) -> DecodeError {
        DecodeError(code, message, at: SourcePosition.locate(offset: offset ?? index, in: bytes))
    }
}

@inline(__always) private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}
