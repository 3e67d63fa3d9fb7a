/// The syntax of a callback body.
public enum BodyFormat: String, Sendable, Hashable {
    case xml
    case json

    /// The format the body's first significant byte says, after an optional
    /// UTF-8 byte order mark and whitespace: `<` is XML, `{` or `[` is JSON.
    /// The content type is not trusted: senders and proxies get it wrong.
    public static func sniff(_ bytes: UnsafeBufferPointer<UInt8>) -> BodyFormat? {
        var index = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            case UInt8(ascii: "<"): return .xml
            case UInt8(ascii: "{"), UInt8(ascii: "["): return .json
            default: return nil
            }
        }
        return nil
    }

    /// The format a `Content-Type` header names, if any.
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";").first.map {
            $0.trimmingSpaces().lowercased()
        } ?? ""
        if mediaType.hasSuffix("/xml") || mediaType.hasSuffix("+xml") {
            self = .xml
        } else if mediaType.hasSuffix("/json") || mediaType.hasSuffix("+json") {
            self = .json
        } else {
            return nil
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " || result.first == "\t" { result.removeFirst() }
        while result.last == " " || result.last == "\t" { result.removeLast() }
        return result
    }
}
