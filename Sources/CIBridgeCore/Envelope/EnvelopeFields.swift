/// The top-level attributes of an envelope's JSON and where its `data` is,
/// read without building the `data` tree: what sinks need to route a record
/// (topic or stream templates) and to split it into headers and body.
public struct EnvelopeFields: Sendable {
    /// String-valued top-level members, in the order they appear.
    public let attributes: [(name: String, value: String)]
    /// The bytes of the `data` value inside the JSON, when there is one.
    public let dataRange: Range<Int>?

    /// Reads `json`; `nil` when it is not a JSON object.
    public init?(json: [UInt8]) {
        var scanner = Scanner(bytes: json)
        guard let (attributes, dataRange) = scanner.scanObject() else { return nil }
        self.attributes = attributes
        self.dataRange = dataRange
    }

    /// The attribute `name`, if present.
    public subscript(name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        mutating func scanObject() -> ([(name: String, value: String)], Range<Int>?)? {
            skipSpace()
            guard next() == UInt8(ascii: "{") else { return nil }
            var attributes: [(name: String, value: String)] = []
            var dataRange: Range<Int>?
            skipSpace()
            if peek() == UInt8(ascii: "}") { return (attributes, nil) }
            while true {
                skipSpace()
                guard let name = scanString() else { return nil }
                skipSpace()
                guard next() == UInt8(ascii: ":") else { return nil }
                skipSpace()
                let start = index
                if peek() == UInt8(ascii: "\"") {
                    guard let value = scanString() else { return nil }
                    attributes.append((name, value))
                } else {
                    guard skipValue() else { return nil }
                }
                if name == "data" { dataRange = start..<index }
                skipSpace()
                switch next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "}"): return (attributes, dataRange)
                default: return nil
                }
            }
        }

        /// A JSON string at `index`, unescaped.
        mutating func scanString() -> String? {
            guard next() == UInt8(ascii: "\"") else { return nil }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard byte == UInt8(ascii: "\\") else {
                    out.append(byte)
                    continue
                }
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count, let unit = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
                    else { return nil }
                    index += 4
                    var scalarValue = unit
                    if (0xD800...0xDBFF).contains(unit), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        let low = UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
                    {
                        scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    out.append(contentsOf: String(Character(Unicode.Scalar(scalarValue) ?? "\u{FFFD}")).utf8)
                default: out.append(escaped)
                }
            }
            return nil
        }

        /// Skips an object, array or literal, minding strings.
        mutating func skipValue() -> Bool {
            var depth = 0
            var inString = false
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if inString {
                    if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 {
                        index -= 1
                        return true
                    }
                    depth -= 1
                    if depth == 0 { return true }
                case UInt8(ascii: ","):
                    if depth == 0 {
                        index -= 1
                        return true
                    }
                default: break
                }
            }
            return depth == 0
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }
    }
}
