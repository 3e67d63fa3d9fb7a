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
    /// Every attribute name an envelope can have, besides `data` (docs/envelope.md).
    public static let attributeNames: Set<String> = [
        "specversion", "id", "source", "type", "datacontenttype", "subject", "time", "partitionkey", "eventname",
        "jobid", "queueid", "tag", "state", "code", "bucket", "region", "workflowid", "runid", "traceid", "verdict",
        "label", "contentversion", "interim", "dataid",
    ]
    /// The attribute names every envelope has (besides `data`).
    static let requiredAttributes: Set<String> = ["specversion", "id", "source", "type", "datacontenttype", "partitionkey"]

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
    /// The callback content in canonical form.
    public let data: CanonicalValue
    /// `data` as canonical JSON, computed once.
    public let dataJSON: [UInt8]
    /// Every attribute but `data`, sorted by name bytes.
    private let sortedAttributes: [Attribute]

    private struct Attribute: Hashable, Sendable {
        let name: String
        let value: String
    }

    /// Builds an envelope; the `id` is derived from `type` and `data`.
    /// - Parameters:
    ///   - partitionKey: the ordering key; the `id` when `nil`.
    ///   - extensions: extension attributes (lowercase names); `nil` or empty values are left out.
    public init(
        source: String, type: String, subject: String?, time: String?,
        partitionKey: String?, extensions: [(name: String, value: String?)], data: CanonicalValue
    ) {
        let dataJSON = CanonicalJSONWriter().bytes(of: data)
        let id = Self.contentID(type: type, dataJSON: dataJSON)
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.partitionKey = partitionKey ?? id
        self.data = data
        self.dataJSON = dataJSON

        var attributes = [
            Attribute(name: "specversion", value: Self.specVersion), Attribute(name: "id", value: id),
            Attribute(name: "source", value: source), Attribute(name: "type", value: type),
            Attribute(name: "datacontenttype", value: Self.dataContentType),
            Attribute(name: "partitionkey", value: partitionKey ?? id),
        ]
        attributes.reserveCapacity(attributes.count + 2 + extensions.count)
        if let subject { attributes.append(Attribute(name: "subject", value: subject)) }
        if let time { attributes.append(Attribute(name: "time", value: time)) }
        for (name, value) in extensions {
            if let value, !value.isEmpty { attributes.append(Attribute(name: name, value: value)) }
        }
        for i in 1..<attributes.count {
            var j = i
            while j > 0, UTF8Order.less(attributes[j].name, attributes[j - 1].name) {
                attributes.swapAt(j, j - 1)
                j -= 1
            }
        }
        self.sortedAttributes = attributes
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
        Dictionary(uniqueKeysWithValues: sortedAttributes.map { ($0.name, $0.value) })
    }

    /// The extension attributes (those beyond CloudEvents' own and `partitionkey`).
    public var extensions: [String: String] {
        attributes.filter { !Self.requiredAttributes.contains($0.key) && $0.key != "subject" && $0.key != "time" }
    }

    /// Every attribute except `data`, sorted by name bytes (the order of ``jsonBytes()``).
    public var attributeList: [(name: String, value: String)] {
        sortedAttributes.map { ($0.name, $0.value) }
    }

    /// The canonical JSON of the whole event (one line, no trailing newline).
    public func jsonBytes() -> [UInt8] {
        jsonBytesAndDataRange().json
    }

    /// ``jsonBytes()``, and where `data`'s value lies in it.
    public func jsonBytesAndDataRange() -> (json: [UInt8], dataRange: Range<Int>) {
        Self.canonicalJSON(sortedAttributes: sortedAttributes.lazy.map { ($0.name, $0.value) }, dataJSON: dataJSON)
    }

    /// The canonical JSON of an envelope from its string attributes, sorted by
    /// name bytes (``UTF8Order``), and its `data` already in canonical JSON; and
    /// where `data`'s value lies in it. The one writer of envelope JSON: also
    /// what rebuilds an envelope from a Kafka message in binary mode.
    public static func canonicalJSON(
        sortedAttributes: some Sequence<(name: String, value: String)>, dataJSON: [UInt8]
    ) -> (json: [UInt8], dataRange: Range<Int>) {
        var output: [UInt8] = []
        output.reserveCapacity(dataJSON.count + 64 * 10)
        output.append(UInt8(ascii: "{"))
        var dataRange: Range<Int>?
        func writeData() {
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            CanonicalJSONWriter.writeString("data", into: &output)
            output.append(UInt8(ascii: ":"))
            let start = output.count
            output.append(contentsOf: dataJSON)
            dataRange = start..<output.count
        }
        for (name, value) in sortedAttributes {
            if dataRange == nil, UTF8Order.less("data", name) { writeData() }
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            CanonicalJSONWriter.writeString(name, into: &output)
            output.append(UInt8(ascii: ":"))
            CanonicalJSONWriter.writeString(value, into: &output)
        }
        if dataRange == nil { writeData() }
        output.append(UInt8(ascii: "}"))
        return (output, dataRange!)
    }

    /// The whole event as a canonical value (for pretty printing and inspection).
    public var canonicalValue: CanonicalValue {
        var members = sortedAttributes.map { CanonicalMember($0.name, .string($0.value)) }
        members.append(CanonicalMember("data", data))
        members.sort { UTF8Order.less($0.name, $1.name) }
        return .object(members)
    }

    public static func == (lhs: Envelope, rhs: Envelope) -> Bool {
        lhs.sortedAttributes == rhs.sortedAttributes && lhs.dataJSON == rhs.dataJSON
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(dataJSON)
    }
}
