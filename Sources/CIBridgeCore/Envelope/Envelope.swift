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
    /// The whole event as canonical JSON, written once, when it is built.
    private let json: [UInt8]
    /// Where `data`'s value lies in ``json``.
    private let dataRange: Range<Int>
    /// Every attribute but `data`, sorted by name bytes.
    private let sortedAttributes: [Attribute]

    /// `data` as canonical JSON.
    public var dataJSON: [UInt8] { Array(json[dataRange]) }

    private struct Attribute: Hashable, Sendable {
        let name: String
        var value: String
    }

    /// Builds an envelope; the `id` is derived from `type` and `data`.
    /// - Parameters:
    ///   - partitionKey: the ordering key; the `id` when `nil`.
    ///   - extensions: extension attributes (lowercase names); `nil` or empty values are left out.
    public init(
        source: String, type: String, subject: String?, time: String?,
        partitionKey: String?, extensions: [(name: String, value: String?)], data: CanonicalValue
    ) {
        // The id is the hash of `data`'s JSON, and the JSON holds the id: the
        // JSON is written once with the id's 32 digits as a placeholder, which
        // the hash then fills in, instead of writing `data` twice (alone to hash
        // it, then into the event), a kilobyte or two copied and allocated.
        let placeholder = String(repeating: "0", count: Self.idLength)
        func holdsID(_ name: String) -> Bool { name == "id" || (name == "partitionkey" && partitionKey == nil) }
        var attributes = [
            Attribute(name: "specversion", value: Self.specVersion), Attribute(name: "id", value: placeholder),
            Attribute(name: "source", value: source), Attribute(name: "type", value: type),
            Attribute(name: "datacontenttype", value: Self.dataContentType),
            Attribute(name: "partitionkey", value: partitionKey ?? placeholder),
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

        var output: [UInt8] = []
        var dataRange = 0..<0
        var idOffsets: [Int] = []
        Self.writeJSON(
            into: &output, sortedAttributes: attributes.lazy.map { ($0.name, $0.value) }, dataCount: 1024,
            writeData: { CanonicalJSONWriter().write(data, into: &$0) },
            written: { name, valueOffset in if holdsID(name) { idOffsets.append(valueOffset) } },
            dataRange: &dataRange)
        let id = output.withUnsafeBufferPointer { Self.contentID(type: type, dataJSON: UnsafeBufferPointer(rebasing: $0[dataRange])) }
        for offset in idOffsets { output.replaceSubrange(offset..<(offset + Self.idLength), with: id.utf8) }
        for index in attributes.indices where holdsID(attributes[index].name) { attributes[index].value = id }

        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.partitionKey = partitionKey ?? id
        self.data = data
        self.json = output
        self.dataRange = dataRange
        self.sortedAttributes = attributes
    }

    /// Hex digits in an id.
    private static let idLength = 32

    /// The content-derived id: the first 128 bits of SHA-256(`type` LF `data`), in hex.
    public static func contentID(type: String, dataJSON: [UInt8]) -> String {
        dataJSON.withUnsafeBufferPointer { contentID(type: type, dataJSON: $0) }
    }

    static func contentID(type: String, dataJSON: UnsafeBufferPointer<UInt8>) -> String {
        var hasher = SHA256()
        var type = type
        type.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0x0A)) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(dataJSON))
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: idLength) { hex in
                for index in 0..<(idLength / 2) {
                    hex[2 * index] = hexDigits[Int(bytes[index] >> 4)]
                    hex[2 * index + 1] = hexDigits[Int(bytes[index] & 0x0F)]
                }
                return idLength
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

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
        json
    }

    /// ``jsonBytes()``, and where `data`'s value lies in it.
    public func jsonBytesAndDataRange() -> (json: [UInt8], dataRange: Range<Int>) {
        (json, dataRange)
    }

    /// The canonical JSON of an envelope from its string attributes, sorted by
    /// name bytes (``UTF8Order``), and its `data` already in canonical JSON; and
    /// where `data`'s value lies in it. What rebuilds an envelope from a Kafka
    /// message in binary mode; the same writer as the envelope's own.
    public static func canonicalJSON(
        sortedAttributes: some Sequence<(name: String, value: String)>, dataJSON: [UInt8]
    ) -> (json: [UInt8], dataRange: Range<Int>) {
        var output: [UInt8] = []
        var dataRange = 0..<0
        writeJSON(
            into: &output, sortedAttributes: sortedAttributes, dataCount: dataJSON.count,
            writeData: { $0.append(contentsOf: dataJSON) }, written: { _, _ in }, dataRange: &dataRange)
        return (output, dataRange)
    }

    /// The one writer of envelope JSON: `data` goes where its name sorts among
    /// the attributes. `written` is told where each attribute's value starts
    /// (after its opening quote).
    private static func writeJSON(
        into output: inout [UInt8], sortedAttributes: some Sequence<(name: String, value: String)>, dataCount: Int,
        writeData: (inout [UInt8]) -> Void, written: (String, Int) -> Void, dataRange: inout Range<Int>
    ) {
        output.reserveCapacity(dataCount + 64 * 10)
        output.append(UInt8(ascii: "{"))
        var wroteData = false
        func writeDataMember(_ output: inout [UInt8]) {
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #""data":"#.utf8)
            let start = output.count
            writeData(&output)
            dataRange = start..<output.count
            wroteData = true
        }
        for (name, value) in sortedAttributes {
            if !wroteData, UTF8Order.less("data", name) { writeDataMember(&output) }
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            CanonicalJSONWriter.writeString(name, into: &output)
            output.append(UInt8(ascii: ":"))
            written(name, output.count + 1)
            CanonicalJSONWriter.writeString(value, into: &output)
        }
        if !wroteData { writeDataMember(&output) }
        output.append(UInt8(ascii: "}"))
    }

    /// The whole event as a canonical value (for pretty printing and inspection).
    public var canonicalValue: CanonicalValue {
        var members = sortedAttributes.map { CanonicalMember($0.name, .string($0.value)) }
        members.append(CanonicalMember("data", data))
        members.sort { UTF8Order.less($0.name, $1.name) }
        return .object(members)
    }

    /// Canonical JSON is the same bytes exactly when every attribute and `data` are the same.
    public static func == (lhs: Envelope, rhs: Envelope) -> Bool {
        lhs.json == rhs.json
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(json)
    }
}
