/// Which of a topic's `count` shard streams an envelope goes to: CRC-32 (the
/// IEEE polynomial, as zlib's `crc32`, Python's `zlib.crc32`, Go's
/// `crc32.ChecksumIEEE` and Java's `java.util.zip.CRC32` compute it) of the
/// partition key's UTF-8 bytes, modulo `count`. One workflow's events always
/// share a shard, and any consumer can compute which.
public enum TopicShard {
    /// The shard of `partitionKey`, in `0..<count`. Inlinable, like ``crc32(_:)``,
    /// so that callers in other modules get it specialised for their bytes
    /// rather than through generic iteration (once per record in the Redis sink).
    @inlinable
    public static func of(partitionKey: some Collection<UInt8>, count: Int) -> Int {
        precondition(count > 0, "a topic has at least one shard")
        if count == 1 { return 0 }
        return Int(crc32(partitionKey) % UInt32(count))
    }

    /// CRC-32/ISO-HDLC of `bytes` (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF).
    @inlinable
    public static func crc32(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    @usableFromInline
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }
}
