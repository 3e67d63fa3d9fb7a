/// Eight bytes read as one word, to skip runs of bytes that need no attention
/// (the JSON writer's escapes, the XML parser's text) eight at a time.
///
/// Each test may answer "yes" for a word that has no such byte (a borrow
/// from a lower byte), never "no" for one that has: a false "yes" only sends
/// those bytes through the byte-by-byte path.
enum ByteWord {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes at `pointer`, in memory order, at any alignment.
    @inline(__always)
    static func load(_ pointer: UnsafePointer<UInt8>) -> UInt64 {
        UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self)
    }

    /// Whether `word` may hold a byte below `limit` (at most 0x80).
    @inline(__always)
    static func mayHoldByte(below limit: UInt8, in word: UInt64) -> Bool {
        (word &- ones &* UInt64(limit)) & ~word & highs != 0
    }

    /// Whether `word` may hold the byte `byte`.
    @inline(__always)
    static func mayHold(_ byte: UInt8, in word: UInt64) -> Bool {
        let zeroWhereEqual = word ^ (ones &* UInt64(byte))
        return (zeroWhereEqual &- ones) & ~zeroWhereEqual & highs != 0
    }
}
