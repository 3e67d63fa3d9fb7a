/// The hash slot of a key in Redis Cluster: CRC16 (XMODEM) of the key, or of
/// its hash tag (the text between the first `{` and the next `}`, when not
/// empty), modulo 16384. Keys with the same tag share a slot, so a script may
/// touch them together.
public enum RedisClusterSlot {
    public static let count = 16_384

    public static func of(_ key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            return Int(crc16(bytes[(open + 1)..<close])) % count
        }
        return Int(crc16(bytes)) % count
    }

    /// CRC-16/XMODEM: polynomial 0x1021, initial value 0.
    static func crc16(_ bytes: some Collection<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }
}
