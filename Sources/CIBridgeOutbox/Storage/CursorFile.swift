/// A sink's persisted low-watermark: `CIBRCUR1`, u64 watermark, u32 CRC-32C of the
/// first 16 bytes. Replaced crash-atomically (temporary file, sync, rename, sync directory).
enum CursorFile {
    static let magic: [UInt8] = Array("CIBRCUR1".utf8)
    static let suffix = ".cursor"

    static func encode(watermark: UInt64) -> [UInt8] {
        var bytes = magic
        appendLittleEndian(watermark, to: &bytes)
        appendLittleEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// The watermark in `bytes`, or `nil` when the file is not a valid cursor.
    static func decode(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 20, Array(bytes[0..<8]) == magic else { return nil }
        let crc = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self)) }
        guard CRC32C.checksum(Array(bytes[0..<16])) == crc else { return nil }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }
}
