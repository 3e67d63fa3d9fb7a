/// What sinks route a record by, stored in the record's frame beside the
/// payload: string attributes (an envelope's `type`, `id`, `workflowid`, …) and
/// where the payload's body (an envelope's `data`) lies.
///
/// Written once when the record is appended, so that no sink has to parse the
/// payload again to choose a topic, a stream or headers. The outbox does not
/// interpret them. Records appended before attributes existed have none
/// (``isEmpty``); readers then fall back to the payload.
///
/// Encoded as the attributes' bytes, each `u8 name length | name | u16 value
/// length | value` (little-endian), looked up by a linear scan: a record has a
/// dozen short attributes, and most lookups want two or three of them.
public struct RecordAttributes: Sendable, Hashable {
    /// The attributes, encoded as above.
    let encoded: [UInt8]
    /// The byte range of the payload's body, when the writer marked one.
    public let bodyRange: Range<Int>?

    /// No attributes: a record from before they existed, or one appended without them.
    public static let none = RecordAttributes(encoded: [], bodyRange: nil)

    init(encoded: [UInt8], bodyRange: Range<Int>?) {
        self.encoded = encoded
        self.bodyRange = bodyRange
    }

    /// Attributes in the order given. Names longer than 255 bytes and values
    /// longer than 65 535 bytes are left out (CloudEvents attributes are short).
    public init(_ attributes: [(name: String, value: String)], bodyRange: Range<Int>? = nil) {
        var encoded: [UInt8] = []
        // One allocation: the exact size first.
        encoded.reserveCapacity(attributes.reduce(0) { $0 + 3 + $1.name.utf8.count + $1.value.utf8.count })
        for (name, value) in attributes where name.utf8.count <= 255 && value.utf8.count <= 65_535 {
            encoded.append(UInt8(name.utf8.count))
            encoded.append(contentsOf: name.utf8)
            appendLittleEndian(UInt16(value.utf8.count), to: &encoded)
            encoded.append(contentsOf: value.utf8)
        }
        self.encoded = encoded
        self.bodyRange = bodyRange
    }

    /// Whether the record carries neither attributes nor a body range.
    public var isEmpty: Bool { encoded.isEmpty && bodyRange == nil }

    /// The value of attribute `name`, if present.
    public subscript(name: String) -> String? {
        var name = name
        return name.withUTF8 { wanted in
            var found: String?
            forEachRange { nameRange, valueRange in
                guard found == nil, nameRange.count == wanted.count,
                    encoded[nameRange].elementsEqual(UnsafeBufferPointer(rebasing: wanted[...]))
                else { return }
                found = String(decoding: encoded[valueRange], as: UTF8.self)
            }
            return found
        }
    }

    /// Every attribute, in the order they were given.
    public var all: [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        forEachRange { name, value in
            result.append((String(decoding: encoded[name], as: UTF8.self), String(decoding: encoded[value], as: UTF8.self)))
        }
        return result
    }

    private func forEachRange(_ body: (Range<Int>, Range<Int>) -> Void) {
        var offset = 0
        while offset < encoded.count {
            let nameLength = Int(encoded[offset])
            let name = (offset + 1)..<(offset + 1 + nameLength)
            let valueLength = Int(encoded[name.upperBound]) | Int(encoded[name.upperBound + 1]) << 8
            let value = (name.upperBound + 2)..<(name.upperBound + 2 + valueLength)
            body(name, value)
            offset = value.upperBound
        }
    }

    /// Whether `bytes` is a well-formed encoding (checked when a frame is decoded,
    /// so lookups need no bounds checks of their own beyond Swift's).
    static func isWellFormed(_ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let nameEnd = offset + 1 + Int(bytes[offset])
            guard nameEnd + 2 <= bytes.endIndex else { return false }
            let valueEnd = nameEnd + 2 + (Int(bytes[nameEnd]) | Int(bytes[nameEnd + 1]) << 8)
            guard valueEnd <= bytes.endIndex else { return false }
            offset = valueEnd
        }
        return true
    }
}
