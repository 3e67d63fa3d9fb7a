/// Reads a segment file from the start, checking every frame: what recovery uses.
struct LogScanner {
    struct Frame {
        let sequence: UInt64
        let offset: Int64
        let size: Int
        let appendTime: Int64
        /// The sinks the record is for (empty: all).
        let routing: [String]
    }

    /// A byte range that is not a valid frame.
    struct Damage {
        let start: Int64
        let end: Int64
        let reason: String
        /// At the end of the file with nothing valid after it: a torn write, or corruption there.
        let isTail: Bool
    }

    struct Result {
        let baseSequence: UInt64
        var frames: [Frame] = []
        var damage: [Damage] = []
        /// The length up to which the file is valid, once damage is cut out.
        var validEnd: Int64
    }

    /// Scans `bytes`, the whole segment, whose frames must have sequences above `after`.
    static func scan(_ bytes: [UInt8], expectedBase: UInt64, after: UInt64, maxBody: Int) -> Result {
        var result = Result(baseSequence: expectedBase, validEnd: Segment.headerSize)
        let size = Int64(bytes.count)
        guard bytes.count >= Int(Segment.headerSize), Array(bytes[0..<8]) == Segment.magic else {
            // A header torn while the segment was being created, or not a segment at all.
            if size > 0 {
                result.damage.append(Damage(start: 0, end: size, reason: "bad segment header", isTail: true))
            }
            result.validEnd = 0
            return result
        }
        var last = after
        bytes.withUnsafeBytes { buffer in
            var offset = Int(Segment.headerSize)
            while offset < bytes.count {
                let decoded = RecordFrame.decode(buffer, at: offset, maxBody: maxBody)
                if case .record(let record, let frameSize) = decoded, record.sequence > last {
                    result.frames.append(Frame(
                            sequence: record.sequence, offset: Int64(offset), size: frameSize, appendTime: record.appendTime,
                            routing: record.routing))
                    last = record.sequence
                    offset += frameSize
                    continue
                }
                let reason: String
                switch decoded {
                case .corrupt(let why): reason = why
                case .incomplete: reason = "frame cut short at the end of the file"
                case .record(let record, _): reason = "sequence \(record.sequence) out of order after \(last)"
                }
                if let next = resynchronise(buffer, from: offset + 1, after: last, maxBody: maxBody) {
                    result.damage.append(Damage(start: Int64(offset), end: Int64(next), reason: reason, isTail: false))
                    offset = next
                } else {
                    result.damage.append(Damage(start: Int64(offset), end: size, reason: reason, isTail: true))
                    offset = bytes.count
                }
            }
        }
        if let lastFrame = result.frames.last {
            result.validEnd = lastFrame.offset + Int64(lastFrame.size)
        }
        return result
    }

    /// The next offset at or after `start` where a valid frame with a sequence above `after` begins.
    static func resynchronise(_ buffer: UnsafeRawBufferPointer, from start: Int, after: UInt64, maxBody: Int) -> Int? {
        var offset = start
        while offset + RecordFrame.headerSize + RecordFrame.minimumBodySize <= buffer.count {
            if case .record(let record, _) = RecordFrame.decode(buffer, at: offset, maxBody: maxBody), record.sequence > after {
                return offset
            }
            offset += 1
        }
        return nil
    }
}
