import Crypto

/// A CloudEvents 1.0 event in structured JSON mode: what cibridge publishes.
///
/// ``jsonBytes()`` is canonical: attributes sorted by name, no insignificant
/// whitespace, and `data` in canonical form, so the same event always
/// serialises to the same bytes. docs/envelope.md describes every attribute.
public struct Envelope: Sendable, Hashable {
    /// CloudEvents `specversion`.
    public static let specVersion = "1.0"
    /// CloudEvents `datacontenttype` of `data`.
    public static let dataContentType = "application/json"

    /// Deterministic from the content: 32 hex digits of SHA-256 over `type` and canonical `data`.
    public let id: String
    public let source: String
    public let type: String
    /// The key of the object the job or workflow processed.
    public let subject: String?
    /// RFC 3339 time of the occurrence, when the callback has one with an offset.
    public let time: String?
    /// The ordering key: the workflow ID, or the documented fallback.
    public let partitionKey: String
    /// Extension attributes (lowercase names), only those with a value.
    public let extensions: [String: String]
    /// The callback content in canonical form.
    public let data: CanonicalValue
    /// `data` as canonical JSON, computed once.
    public let dataJSON: [UInt8]

    /// Builds an envelope; the `id` is derived from `type` and `data`.
    public init(
        source: String, type: String, subject: String?, time: String?,
        partitionKey: String?, extensions: [String: String], data: CanonicalValue
    ) {
        let dataJSON = CanonicalJSONWriter().bytes(of: data)
        let id = Self.contentID(type: type, dataJSON: dataJSON)
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.partitionKey = partitionKey ?? id
        self.extensions = extensions.filter { !$0.value.isEmpty }
        self.data = data
        self.dataJSON = dataJSON
    }

    /// The content-derived id: the first 128 bits of SHA-256(`type` LF `data`), in hex.
    public static func contentID(type: String, dataJSON: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(type.utf8))
        hasher.update(data: [0x0A])
        hasher.update(data: dataJSON)
        let digest = hasher.finalize()
        let hexDigits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for byte in digest.prefix(16) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Every attribute except `data`, by name.
    public var attributes: [String: String] {
        var attributes = extensions
        attributes["specversion"] = Self.specVersion
        attributes["id"] = id
        attributes["source"] = source
        attributes["type"] = type
        attributes["datacontenttype"] = Self.dataContentType
        attributes["partitionkey"] = partitionKey
        if let subject { attributes["subject"] = subject }
        if let time { attributes["time"] = time }
        return attributes
    }

    /// The canonical JSON of the whole event (one line, no trailing newline).
    public func jsonBytes() -> [UInt8] {
        let names = (Array(attributes.keys) + ["data"]).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let attributes = self.attributes
        var output: [UInt8] = []
        output.reserveCapacity(dataJSON.count + 512)
        output.append(UInt8(ascii: "{"))
        for (offset, name) in names.enumerated() {
            if offset > 0 { output.append(UInt8(ascii: ",")) }
            CanonicalJSONWriter.writeString(name, into: &output)
            output.append(UInt8(ascii: ":"))
            if name == "data" {
                output.append(contentsOf: dataJSON)
            } else {
                CanonicalJSONWriter.writeString(attributes[name]!, into: &output)
            }
        }
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// The whole event as a canonical value (for pretty printing and inspection).
    public var canonicalValue: CanonicalValue {
        var members = attributes.map { CanonicalMember($0.key, .string($0.value)) }
        members.append(CanonicalMember("data", data))
        members.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return .object(members)
    }
}
