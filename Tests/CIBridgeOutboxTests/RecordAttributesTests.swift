@testable import CIBridgeOutbox
import CIBridgeTestSupport
import Testing

/// Attributes stored in a record's frame, so sinks need not parse the payload.
@Suite("Record attributes")
struct RecordAttributesTests {
    static let attributes = RecordAttributes(
        [("id", "abc"), ("type", "com.tencentcloud.ci.task.finish"), ("workflowid", "w-1"), ("subject", "ü/ключ")],
        bodyRange: 8..<15)

    static let payload = Array(#"{"data":{"a":1},"id":"abc"}"#.utf8)

    @Test("A body range that does not fit the payload is dropped, not the record")
    func badBodyRange() {
        var frame: [UInt8] = []
        RecordFrame.encode(
            sequence: 1, appendTime: 0, key: "k", routing: [], payload: Array("{}".utf8),
            attributes: RecordAttributes([("id", "x")], bodyRange: 8..<20), into: &frame)
        guard case .record(let record, _) = frame.withUnsafeBytes({ RecordFrame.decode($0, at: 0, maxBody: 1 << 20) }) else {
            Issue.record("a checksummed record was refused")
            return
        }
        #expect(record.attributes["id"] == "x")
        #expect(record.attributes.bodyRange == nil)
    }

    @Test("Lookups find each attribute; absent ones are nil; order is kept")
    func lookup() {
        let a = Self.attributes
        #expect(a["id"] == "abc")
        #expect(a["subject"] == "ü/ключ")
        #expect(a["workflowid"] == "w-1")
        #expect(a["tag"] == nil)
        #expect(a["i"] == nil)
        #expect(a.all.map(\.name) == ["id", "type", "workflowid", "subject"])
        #expect(a.bodyRange == 8..<15)
        #expect(RecordAttributes.none.isEmpty)
    }

    @Test("A frame with attributes round-trips, and any single flipped bit is detected")
    func frame() {
        var frame: [UInt8] = []
        let payload = Self.payload
        RecordFrame.encode(
            sequence: 7, appendTime: 1_700_000_000_000, key: "w-1", routing: ["redis"], payload: payload,
            attributes: Self.attributes, into: &frame)
        #expect(frame.count == RecordFrame.size(key: "w-1", routing: ["redis"], payload: payload.count, attributes: Self.attributes))
        guard case .record(let record, let size) = frame.withUnsafeBytes({ RecordFrame.decode($0, at: 0, maxBody: 1 << 20) }) else {
            Issue.record("did not decode")
            return
        }
        #expect(size == frame.count)
        #expect(record.payload == payload)
        #expect(record.routing == ["redis"])
        #expect(record.attributes == Self.attributes)
        for bit in 0..<(frame.count * 8) {
            var damaged = frame
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            if case .record = damaged.withUnsafeBytes({ RecordFrame.decode($0, at: 0, maxBody: 1 << 20) }) {
                Issue.record("bit \(bit) flipped went unnoticed")
            }
        }
    }

    @Test("A frame written before attributes existed still decodes, with none")
    func oldFrame() {
        // Bytes as the previous version wrote them: routing byte 1 (bit 7 clear), no attribute block.
        var body: [UInt8] = []
        appendLittleEndian(UInt64(3), to: &body)
        appendLittleEndian(UInt64(1_700_000_000_000), to: &body)
        appendLittleEndian(UInt16(1), to: &body)
        body += Array("k".utf8) + [1, 5] + Array("kafka".utf8) + Array("{}".utf8)
        var frame: [UInt8] = []
        appendLittleEndian(UInt32(body.count), to: &frame)
        appendLittleEndian(CRC32C.checksum(body), to: &frame)
        frame += body
        guard case .record(let record, _) = frame.withUnsafeBytes({ RecordFrame.decode($0, at: 0, maxBody: 1 << 20) }) else {
            Issue.record("did not decode")
            return
        }
        #expect(record == OutboxRecord(sequence: 3, appendTime: 1_700_000_000_000, key: "k", routing: ["kafka"], payload: Array("{}".utf8)))
        #expect(record.attributes.isEmpty)
    }

    @Test("Attributes survive the log: appended, read back by a sink, dead-lettered and requeued")
    func throughTheOutbox() async throws {
        let dir = try TemporaryDirectory("record-attributes")
        defer { dir.remove() }
        let outbox = try Outbox(directory: dir.path, configuration: OutboxConfiguration(sinks: ["s"], minFreeBytes: 0))
        _ = try await outbox.append([OutboxEntry(key: "w-1", payload: Self.payload, attributes: Self.attributes)])
        let first = try #require(try await outbox.take(1, from: "s").first)
        #expect(first.attributes == Self.attributes)
        try await outbox.deadLetter("s", first.sequence, reason: "test")
        #expect(try outbox.deadLetters(for: "s").first?.record.attributes == Self.attributes)
        _ = try await outbox.requeue("s")
        let again = try #require(try await outbox.take(1, from: "s").first)
        #expect(again.attributes == Self.attributes)
        await outbox.close()
    }
}
