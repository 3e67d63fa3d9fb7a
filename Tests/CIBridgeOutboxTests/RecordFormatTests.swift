@testable import CIBridgeOutbox
import CIBridgeTestSupport
import Testing

@Suite("Record format")
struct RecordFormatTests {
    @Test("CRC-32C matches the standard check value and a bitwise reference")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        var rng = SeededGenerator(seed: 3)
        for length in [0, 1, 7, 8, 9, 63, 64, 1200, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CRC32C.checksum(bytes) == crc32c(bytes))
            #expect(bytes.withUnsafeBytes { CRC32C.tableChecksum($0) } == crc32c(bytes))
        }
    }

    @Test("A frame round-trips, and any single flipped bit is detected")
    func frame() {
        var frame: [UInt8] = []
        RecordFrame.encode(sequence: 42, appendTime: 1_700_000_000_123, key: "wf-1", routing: ["kafka"], payload: Array("hello".utf8), into: &frame)
        guard case .record(let record, let size) = frame.withUnsafeBytes({ RecordFrame.decode($0, at: 0, maxBody: 1 << 20) }) else {
            Issue.record("did not decode")
            return
        }
        #expect(size == frame.count)
        #expect(record == OutboxRecord(sequence: 42, appendTime: 1_700_000_000_123, key: "wf-1", routing: ["kafka"], payload: Array("hello".utf8)))
        for bit in 0..<(frame.count * 8) {
            var damaged = frame
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            let decoded = damaged.withUnsafeBytes { RecordFrame.decode($0, at: 0, maxBody: 1 << 20) }
            if case .record = decoded { Issue.record("bit \(bit) flipped went unnoticed") }
        }
    }

    @Test("Cursor files round-trip and refuse damage")
    func cursor() {
        let bytes = CursorFile.encode(watermark: 123_456)
        #expect(CursorFile.decode(bytes) == 123_456)
        var damaged = bytes
        damaged[10] ^= 1
        #expect(CursorFile.decode(damaged) == nil)
        #expect(CursorFile.decode(Array(bytes.prefix(12))) == nil)
    }
}
