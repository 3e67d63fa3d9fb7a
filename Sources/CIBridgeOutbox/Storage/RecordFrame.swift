/// The on-disk framing of one record (little-endian):
///
/// ```
/// u32 length      bytes of the body that follows the 8-byte header
/// u32 crc32c      CRC-32C of the body
/// body:
///   u64 sequence
///   i64 appendTime        milliseconds since the Unix epoch
///   u16 keyLength, key    UTF-8
///   u8  routing         bits 0-6: how many sink names follow; bit 7: attributes follow
///   per sink: u8 nameLength, name
///   if bit 7: u32 bodyStart, u32 bodyEnd (both 0xFFFFFFFF: none),
///             u16 attributesLength, attributes (``RecordAttributes``)
///   payload               the rest
/// ```
///
/// Bit 7 keeps frames written before attributes existed readable as they are:
/// their routing byte never had it set (a record names at most the one sink
/// a requeued dead letter is for).
enum RecordFrame {
    static let headerSize = 8
    /// The smallest body: sequence, time, key length, routing count.
    static let minimumBodySize = 8 + 8 + 2 + 1

    /// Appends the frame of `record` to `output`.
    static func encode(
        sequence: UInt64, appendTime: Int64, key: String, routing: [String], payload: [UInt8],
        attributes: RecordAttributes = .none, into output: inout [UInt8]
    ) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: headerSize))
        appendLittleEndian(sequence, to: &output)
        appendLittleEndian(UInt64(bitPattern: appendTime), to: &output)
        let keyBytes = Array(key.utf8.prefix(Int(UInt16.max)))
        appendLittleEndian(UInt16(keyBytes.count), to: &output)
        output.append(contentsOf: keyBytes)
        let hasAttributes = !attributes.isEmpty
        output.append(UInt8(min(routing.count, maxRouting)) | (hasAttributes ? attributesFlag : 0))
        for name in routing.prefix(maxRouting) {
            let nameBytes = Array(name.utf8.prefix(255))
            output.append(UInt8(nameBytes.count))
            output.append(contentsOf: nameBytes)
        }
        if hasAttributes {
            let body = attributes.bodyRange.map { (UInt32($0.lowerBound), UInt32($0.upperBound)) } ?? (.max, .max)
            appendLittleEndian(body.0, to: &output)
            appendLittleEndian(body.1, to: &output)
            appendLittleEndian(UInt16(attributes.encoded.count), to: &output)
            output.append(contentsOf: attributes.encoded)
        }
        output.append(contentsOf: payload)
        let bodyLength = output.count - start - headerSize
        let crc = output.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + headerSize)...])) }
        output.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: UInt32(bodyLength).littleEndian, toByteOffset: start, as: UInt32.self)
            buffer.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// Bit 7 of the routing byte: an attribute block follows the sink names.
    static let attributesFlag: UInt8 = 0x80
    static let maxRouting = 127

    /// The size of the frame of a record, for limits.
    static func size(key: String, routing: [String], payload: Int, attributes: RecordAttributes = .none) -> Int {
        headerSize + minimumBodySize + key.utf8.count + routing.reduce(0) { $0 + 1 + $1.utf8.count } + payload
            + (attributes.isEmpty ? 0 : 10 + attributes.encoded.count)
    }

    enum Decoded {
        /// A record and the size of its frame.
        case record(OutboxRecord, size: Int)
        /// The buffer ends inside the frame (`needed` bytes from `offset` would hold it).
        case incomplete(needed: Int)
        /// The bytes at the offset are not a valid frame.
        case corrupt(String)
    }

    /// Decodes the frame at `offset` in `buffer`. `maxBody` bounds a plausible length.
    static func decode(_ buffer: UnsafeRawBufferPointer, at offset: Int, maxBody: Int) -> Decoded {
        let available = buffer.count - offset
        guard available >= headerSize else { return .incomplete(needed: headerSize) }
        let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let crc = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard length >= minimumBodySize, length <= maxBody else { return .corrupt("implausible length \(length)") }
        guard available >= headerSize + length else { return .incomplete(needed: headerSize + length) }
        let body = UnsafeRawBufferPointer(rebasing: buffer[(offset + headerSize)..<(offset + headerSize + length)])
        guard CRC32C.checksum(body) == crc else { return .corrupt("checksum mismatch") }
        var cursor = 0
        let sequence = UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let appendTime = Int64(bitPattern: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        let keyLength = Int(UInt16(littleEndian: body.loadUnaligned(fromByteOffset: 16, as: UInt16.self)))
        cursor = 18
        guard cursor + keyLength + 1 <= length else { return .corrupt("key overruns the frame") }
        let key = String(decoding: body[cursor..<(cursor + keyLength)], as: UTF8.self)
        cursor += keyLength
        let routingByte = body[cursor]
        let routingCount = Int(routingByte & ~attributesFlag)
        cursor += 1
        var routing: [String] = []
        for _ in 0..<routingCount {
            guard cursor < length else { return .corrupt("routing overruns the frame") }
            let nameLength = Int(body[cursor])
            cursor += 1
            guard cursor + nameLength <= length else { return .corrupt("routing overruns the frame") }
            routing.append(String(decoding: body[cursor..<(cursor + nameLength)], as: UTF8.self))
            cursor += nameLength
        }
        var attributes = RecordAttributes.none
        if routingByte & attributesFlag != 0 {
            guard cursor + 10 <= length else { return .corrupt("attributes overrun the frame") }
            let start = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: cursor, as: UInt32.self)))
            let end = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: cursor + 4, as: UInt32.self)))
            let count = Int(UInt16(littleEndian: body.loadUnaligned(fromByteOffset: cursor + 8, as: UInt16.self)))
            cursor += 10
            guard cursor + count <= length else { return .corrupt("attributes overrun the frame") }
            let encoded = [UInt8](body[cursor..<(cursor + count)])
            cursor += count
            // The checksum vouches for these bytes; if they still do not fit (a
            // writer's bug), the record is kept without them: attributes only
            // save sinks a parse, and the payload is what counts.
            let payloadLength = length - cursor
            let bodyRange: Range<Int>? = start <= end && end <= payloadLength ? start..<end : nil
            if RecordAttributes.isWellFormed(encoded[...]) {
                attributes = RecordAttributes(encoded: encoded, bodyRange: bodyRange)
            }
        }
        let payload = [UInt8](body[cursor...])
        let record = OutboxRecord(
            sequence: sequence, appendTime: appendTime, key: key, routing: routing, payload: payload, attributes: attributes)
        return .record(record, size: headerSize + length)
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to output: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
}
