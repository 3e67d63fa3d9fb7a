import Synchronization

/// Request ids for callbacks that come without `X-Request-Id`: a random
/// per-process prefix and a counter, in hex (`5f0c2a9e41d7-00000000002a`).
///
/// Unique within the process and, by the prefix, across restarts and replicas
/// in practice; a tenth of the cost of a random UUID per request.
enum RequestID {
    private static let prefix: String = {
        let random = UInt64.random(in: 0..<(1 << 48))
        let hex = String(random, radix: 16)
        return String(repeating: "0", count: 12 - hex.count) + hex
    }()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        let hex = String(number, radix: 16)
        return prefix + "-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }
}
