#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a single host.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes; IPv4 addresses are stored IPv4-mapped (`::ffff:a.b.c.d`).
    let network: [UInt8]
    let prefix: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let isV4 = !parts[0].contains(":")
        let maxPrefix = isV4 ? 32 : 128
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maxPrefix).contains(value) else { return nil }
            prefix = value
        }
        self.prefix = isV4 ? prefix + 96 : prefix
        self.network = Self.mask(address, self.prefix)
        self.description = text
    }

    /// Whether `address` (textual IPv4 or IPv6) is inside this network.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.parse(address) else { return false }
        return Self.mask(bytes, prefix) == network
    }

    static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
            return withUnsafeBytes(of: &storage) { Array($0) }
        }
        var storage = in_addr()
        guard inet_pton(AF_INET, text, &storage) == 1 else { return nil }
        return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + withUnsafeBytes(of: &storage) { Array($0) }
    }

    static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = max(0, min(8, prefix - index * 8))
            return bits == 8 ? byte : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }
}
