/// One segment file of the log and its in-memory index.
///
/// A segment starts with a 16-byte header (`CIBRSEG1`, then the u64 sequence of
/// its first record) followed by frames (``RecordFrame``). Files are named
/// after that first sequence, zero-padded to 20 digits, so they sort in order.
struct Segment: Sendable {
    static let magic: [UInt8] = Array("CIBRSEG1".utf8)
    static let headerSize: Int64 = 16
    static let suffix = ".seg"

    let baseSequence: UInt64
    let file: any OutboxFile
    /// Where the next frame goes (the file's valid length).
    var endOffset: Int64
    /// Offsets of the records, indexed by `sequence - baseSequence`; `UInt32.max` marks a gap.
    var offsets: [UInt32] = []
    var firstAppendTime: Int64?
    var lastAppendTime: Int64?
    var recordCount = 0
    /// The append time of the first record of each block of ``timeBlock``
    /// sequences: how old a pending record is, to within a block, without
    /// keeping a time per record or reading the file.
    var blockTimes: [Int64] = []
    static let timeBlock = 64

    /// The last sequence this segment holds, or `baseSequence - 1` when empty.
    var lastSequence: UInt64 { baseSequence &+ UInt64(offsets.count) &- 1 }
    var bytes: Int64 { endOffset }

    static func fileName(base: UInt64) -> String {
        let digits = String(base)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    static func header(base: UInt64) -> [UInt8] {
        var header = magic
        appendLittleEndian(base, to: &header)
        return header
    }

    /// Creates an empty segment file with its header written; the caller syncs it and the directory.
    static func create(directory: String, base: UInt64, fileSystem: any OutboxFileSystem) throws(OutboxError) -> Segment {
        let path = directory + "/" + fileName(base: base)
        let file = try fileSystem.open(path, create: true)
        try file.truncate(to: 0)
        try file.write(header(base: base), at: 0)
        return Segment(baseSequence: base, file: file, endOffset: headerSize)
    }

    /// Records that a frame for `sequence` now sits at `offset`.
    mutating func index(sequence: UInt64, offset: Int64, appendTime: Int64, size: Int) {
        let slot = Int(sequence - baseSequence)
        while offsets.count < slot { offsets.append(UInt32.max) }
        offsets.append(UInt32(offset))
        while blockTimes.count <= slot / Self.timeBlock { blockTimes.append(appendTime) }
        endOffset = offset + Int64(size)
        if firstAppendTime == nil { firstAppendTime = appendTime }
        lastAppendTime = appendTime
        recordCount += 1
    }

    /// How many records (not gaps) have sequences in `range`.
    func recordCount(in range: ClosedRange<UInt64>) -> Int {
        guard recordCount > 0, range.upperBound >= baseSequence, range.lowerBound <= lastSequence else { return 0 }
        if range.lowerBound <= baseSequence && range.upperBound >= lastSequence { return recordCount }
        let first = Int(max(range.lowerBound, baseSequence) - baseSequence)
        let last = Int(min(range.upperBound, lastSequence) - baseSequence)
        var count = 0
        for slot in first...last where offsets[slot] != UInt32.max { count += 1 }
        return count
    }

    /// The append time of `sequence`'s block (at or before the record's own).
    func approximateAppendTime(of sequence: UInt64) -> Int64? {
        guard sequence >= baseSequence else { return nil }
        let block = Int(sequence - baseSequence) / Self.timeBlock
        return block < blockTimes.count ? blockTimes[block] : nil
    }

    /// The file offset of `sequence`'s frame, or of the next record after a gap.
    func offset(of sequence: UInt64) -> Int64? {
        guard sequence >= baseSequence else { return nil }
        var slot = Int(sequence - baseSequence)
        while slot < offsets.count {
            if offsets[slot] != UInt32.max { return Int64(offsets[slot]) }
            slot += 1
        }
        return nil
    }
}
