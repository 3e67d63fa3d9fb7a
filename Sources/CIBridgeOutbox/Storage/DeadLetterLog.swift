/// A sink's dead letters: an append-only file of frames (``RecordFrame``) in
/// `dead-letters/<sink>.log`. Each frame's payload starts with a kind byte:
///
/// - `1` dead: u64 original append time, u16 reason length, reason, then the
///   original payload. The frame's sequence, key and routing are the record's.
/// - `2` requeued: nothing more; the record went back into the log.
struct DeadLetterLog {
    static let suffix = ".log"

    /// One record a sink gave up on.
    struct Entry: Sendable, Hashable {
        let record: OutboxRecord
        let reason: String
        /// When the sink gave up, milliseconds since the epoch.
        let time: Int64
        var requeued: Bool
    }

    static func encodeDead(_ record: OutboxRecord, reason: String, time: Int64) -> [UInt8] {
        var payload: [UInt8] = [1]
        appendLittleEndian(UInt64(bitPattern: record.appendTime), to: &payload)
        let reasonBytes = Array(reason.utf8.prefix(4096))
        appendLittleEndian(UInt16(reasonBytes.count), to: &payload)
        payload += reasonBytes
        payload += record.payload
        var frame: [UInt8] = []
        RecordFrame.encode(
            sequence: record.sequence, appendTime: time, key: record.key, routing: record.routing, payload: payload,
            attributes: record.attributes, into: &frame)
        return frame
    }

    static func encodeRequeued(sequence: UInt64, time: Int64) -> [UInt8] {
        var frame: [UInt8] = []
        RecordFrame.encode(sequence: sequence, appendTime: time, key: "", routing: [], payload: [2], into: &frame)
        return frame
    }

    /// The entries in a log's bytes, oldest first, and where its last valid frame
    /// ends (a torn last frame is not part of it). Damage in the middle (a frame a
    /// failed write left, a flipped bit) is skipped to the next valid frame, as in
    /// segments: a dead letter written after it is still read.
    static func decode(_ bytes: [UInt8]) -> (entries: [Entry], validLength: Int) {
        var entries: [Entry] = []
        var positions: [UInt64: Int] = [:]
        var offset = 0
        var validEnd = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                guard case .record(let frame, let size) = RecordFrame.decode(buffer, at: offset, maxBody: Int(UInt32.max)),
                    let kind = frame.payload.first
                else {
                    guard let next = LogScanner.resynchronise(buffer, from: offset + 1, after: 0, maxBody: buffer.count) else { return }
                    offset = next
                    continue
                }
                offset += size
                validEnd = offset
                if kind == 2 {
                    if let index = positions[frame.sequence] { entries[index].requeued = true }
                    continue
                }
                let payload = frame.payload
                guard kind == 1, payload.count >= 11 else { continue }
                let originalTime = payload.withUnsafeBytes {
                    Int64(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt64.self)))
                }
                let reasonLength = payload.withUnsafeBytes {
                    Int(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: 9, as: UInt16.self)))
                }
                guard 11 + reasonLength <= payload.count else { continue }
                let reason = String(decoding: payload[11..<(11 + reasonLength)], as: UTF8.self)
                let record = OutboxRecord(
                    sequence: frame.sequence, appendTime: originalTime, key: frame.key, routing: frame.routing,
                    payload: Array(payload[(11 + reasonLength)...]), attributes: frame.attributes)
                positions[frame.sequence] = entries.count
                entries.append(Entry(record: record, reason: reason, time: frame.appendTime, requeued: false))
            }
        }
        return (entries, validEnd)
    }
}
