/// The top-level attributes of an envelope's JSON and where its `data` is,
/// read without building the `data` tree: what sinks need to route a record
/// (topic or stream templates) and to split it into headers and body.
///
/// Scanning records only where each member is; a value becomes a `String`
/// when it is asked for.
public struct EnvelopeFields: Sendable {
    private let bytes: [UInt8]
    /// Name and value ranges of string-valued members (inside the quotes), in order.
    private let members: [Member]
    /// The bytes of the `data` value inside the JSON, when there is one.
    public let dataRange: Range<Int>?

    private struct Member: Sendable {
        let name: Range<Int>
        let value: Range<Int>
        /// The value contains a backslash escape.
        let escaped: Bool
    }

    /// Reads `json`; `nil` when it is not a JSON object.
    public init?(json: [UInt8]) {
        guard let (members, dataRange) = json.withUnsafeBufferPointer({ Self.scan($0) }) else { return nil }
        self.bytes = json
        self.members = members
        self.dataRange = dataRange
    }

    /// The string attribute `name`, if present.
    public subscript(name: String) -> String? {
        var name = name
        return name.withUTF8 { wanted -> String? in
            for member in members where member.name.count == wanted.count {
                if bytes[member.name].elementsEqual(wanted) { return value(member) }
            }
            return nil
        }
    }

    /// Every string-valued top-level member, in the order they appear.
    public var attributes: [(name: String, value: String)] {
        members.map { (String(decoding: bytes[$0.name], as: UTF8.self), value($0)) }
    }

    private func value(_ member: Member) -> String {
        guard member.escaped else { return String(decoding: bytes[member.value], as: UTF8.self) }
        return Self.unescape(bytes[member.value])
    }

    // MARK: - Scanning

    private static func scan(_ b: UnsafeBufferPointer<UInt8>) -> ([Member], Range<Int>?)? {
        var i = 0
        var members: [Member] = []
        members.reserveCapacity(20)
        var dataRange: Range<Int>?
        func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }
        /// At a quote: the content range and whether it has escapes; `i` ends after the closing quote.
        func string() -> (Range<Int>, Bool)? {
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            var escaped = false
            while i < b.count {
                let byte = b[i]
                if byte == UInt8(ascii: "\"") {
                    i += 1
                    return (start..<(i - 1), escaped)
                }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    i += 2
                } else {
                    i += 1
                }
            }
            return nil
        }
        /// Skips an object, array or literal; `i` ends after it.
        func skipValue() -> Bool {
            var depth = 0
            while i < b.count {
                let byte = b[i]
                switch byte {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    if depth == 0 { return true }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return true }
                    depth -= 1
                    if depth == 0 {
                        i += 1
                        return true
                    }
                case UInt8(ascii: ","):
                    if depth == 0 { return true }
                default:
                    break
                }
                i += 1
            }
            return depth == 0
        }

        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { return (members, nil) }
        while true {
            skipSpace()
            guard let (name, _) = string() else { return nil }
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            let start = i
            if i < b.count, b[i] == UInt8(ascii: "\"") {
                guard let (value, escaped) = string() else { return nil }
                members.append(Member(name: name, value: value, escaped: escaped))
            } else {
                guard skipValue() else { return nil }
                if name.count == 4, b[name.lowerBound] == UInt8(ascii: "d"), b[name.lowerBound + 1] == UInt8(ascii: "a"),
                    b[name.lowerBound + 2] == UInt8(ascii: "t"), b[name.lowerBound + 3] == UInt8(ascii: "a")
                {
                    dataRange = start..<i
                }
            }
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if b[i] == UInt8(ascii: "}") { return (members, dataRange) }
            return nil
        }
    }

    private static func unescape(_ slice: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var i = slice.startIndex
        while i < slice.endIndex {
            let byte = slice[i]
            i += 1
            guard byte == UInt8(ascii: "\\"), i < slice.endIndex else {
                out.append(byte)
                continue
            }
            let escaped = slice[i]
            i += 1
            switch escaped {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= slice.endIndex, let unit = UInt32(String(decoding: slice[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                    continue
                }
                i += 4
                var scalar = unit
                if (0xD800...0xDBFF).contains(unit), i + 6 <= slice.endIndex, slice[i] == UInt8(ascii: "\\"),
                    let low = UInt32(String(decoding: slice[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16)
                {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: out.append(escaped)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
