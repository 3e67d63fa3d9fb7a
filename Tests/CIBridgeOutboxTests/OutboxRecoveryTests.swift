import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import Testing

/// Damage on real files: torn tails, flipped bits, broken cursors.
@Suite("Outbox recovery")
struct OutboxRecoveryTests {
    let config = OutboxConfiguration(sinks: ["s"], minFreeBytes: 0)

    func write(_ count: Int, to dir: TemporaryDirectory) async throws {
        let outbox = try Outbox(directory: dir.path, configuration: config)
        for n in 1...count { _ = try await outbox.append([entry(n, key: "k\(n)", size: 200)]) }
        await outbox.close()
    }

    func segmentPath(_ dir: TemporaryDirectory) -> String {
        dir.path + "/segments/" + dir.files("segments").last!
    }

    @Test("A torn tail is cut off (and kept in quarantine); every complete record survives")
    func tornTail() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        try await write(10, to: dir)
        // A crash in the middle of the 11th write: half a frame at the end.
        let path = segmentPath(dir)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0xF0, 0x00, 0x00, 0x00, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3]))
        try handle.close()

        let outbox = try Outbox(directory: dir.path, configuration: config)
        #expect(outbox.recovery.truncatedTailBytes == 11)
        #expect(dir.files("quarantine").count == 1)
        let records = try await outbox.take(10, from: "s")
        #expect(records.map(\.sequence) == Array(1...10))
        #expect(try await outbox.append([entry(11)]) == [11])
        await outbox.close()
        let reopened = try Outbox(directory: dir.path, configuration: config)
        #expect(reopened.recovery.truncatedTailBytes == 0)
        #expect(try await reopened.take(11, from: "s").count == 11)
        await reopened.close()
    }

    @Test("A flipped bit in the middle quarantines that record only; the rest are delivered")
    func bitFlip() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        try await write(10, to: dir)
        let path = segmentPath(dir)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Record 5's payload: find its text and flip a bit in it.
        let marker = Array("record-5|".utf8)
        let at = (0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker }!
        bytes[at + 3] ^= 0x04
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let outbox = try Outbox(directory: dir.path, configuration: config)
        #expect(outbox.recovery.quarantinedRegions == 1)
        #expect(outbox.recovery.truncatedTailBytes == 0)
        #expect(outbox.status().quarantined == 1)
        let records = try await outbox.take(10, from: "s", seconds: 10)
        #expect(records.map(\.sequence) == [1, 2, 3, 4, 6, 7, 8, 9, 10])
        for record in records { outbox.ack("s", record.sequence) }
        // The gap does not stall the watermark.
        #expect(outbox.status().sinks[0].watermark == 10)
        #expect(try await outbox.append([entry(11)]) == [11])
        await outbox.close()
        // The segment was rewritten without the damage: a second open finds nothing.
        let reopened = try Outbox(directory: dir.path, configuration: config)
        #expect(reopened.recovery.quarantinedRegions == 0)
        await reopened.close()
    }

    @Test("A damaged length field is resynchronised past, not treated as the end")
    func damagedLength() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        try await write(6, to: dir)
        let path = segmentPath(dir)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The first frame starts right after the 16-byte header: break its length.
        bytes[16 + 2] = 0x7F
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let outbox = try Outbox(directory: dir.path, configuration: config)
        let records = try await outbox.take(6, from: "s", seconds: 10)
        #expect(records.map(\.sequence) == [2, 3, 4, 5, 6])
        await outbox.close()
    }

    @Test("A damaged cursor does not stop the start: the sink is delivered again from the oldest record")
    func damagedCursor() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        do {
            let outbox = try Outbox(directory: dir.path, configuration: config)
            _ = try await outbox.append((1...5).map { entry($0) })
            for record in try await outbox.take(5, from: "s") { outbox.ack("s", record.sequence) }
            await outbox.close()
        }
        let cursor = dir.path + "/cursors/s.cursor"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cursor)))
        bytes[9] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: cursor))
        let outbox = try Outbox(directory: dir.path, configuration: config)
        #expect(outbox.recovery.resetCursors == ["s"])
        #expect(try await outbox.take(5, from: "s").map(\.sequence) == Array(1...5))
        #expect(try await outbox.append([entry(6)]) == [6])
        await outbox.close()
    }

    @Test("A cursor ahead of the log (fsync interval, power cut) never causes a sequence to be reused")
    func cursorAheadOfLog() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        try await write(3, to: dir)
        // Pretend the sink acknowledged up to 50, but only 3 records reached the disk.
        var cursor = Array("CIBRCUR1".utf8)
        withUnsafeBytes(of: UInt64(50).littleEndian) { cursor += $0 }
        let crc = crc32c(cursor)
        withUnsafeBytes(of: crc.littleEndian) { cursor += $0 }
        try Data(cursor).write(to: URL(fileURLWithPath: dir.path + "/cursors/s.cursor"))
        let outbox = try Outbox(directory: dir.path, configuration: config)
        #expect(try await outbox.append([entry(4)]) == [51])
        #expect(try await outbox.take(1, from: "s").map(\.sequence) == [51])
        await outbox.close()
    }

    @Test("A segment torn during creation (no header yet) is restarted")
    func tornHeader() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        try await write(3, to: dir)
        let path = segmentPath(dir)
        // A second, empty-headed segment as a crash during rotation leaves it.
        let next = dir.path + "/segments/00000000000000000004.seg"
        try Data([0x43, 0x49]).write(to: URL(fileURLWithPath: next))
        _ = path
        let outbox = try Outbox(directory: dir.path, configuration: config)
        #expect(try await outbox.take(3, from: "s").count == 3)
        #expect(try await outbox.append([entry(4)]) == [4])
        await outbox.close()
    }
}

/// CRC-32C, bit by bit: an independent reference for the tests.
func crc32c(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}
