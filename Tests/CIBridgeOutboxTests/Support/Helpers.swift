import CIBridgeOutbox
import Foundation

/// A recognisable payload for record number `n`.
func payload(_ n: Int, size: Int = 64) -> [UInt8] {
    var bytes = Array("record-\(n)|".utf8)
    while bytes.count < size { bytes.append(UInt8(ascii: "a") + UInt8(bytes.count % 26)) }
    return bytes
}

func entry(_ n: Int, key: String = "k", size: Int = 64) -> OutboxEntry {
    OutboxEntry(key: key, payload: payload(n, size: size))
}

extension Outbox {
    /// Takes batches for `sink` until `count` records arrived or `seconds` passed.
    func take(_ count: Int, from sink: String, seconds: Double = 5) async throws -> [OutboxRecord] {
        var records: [OutboxRecord] = []
        let deadline = Date().addingTimeInterval(seconds)
        while records.count < count && Date() < deadline {
            let want = count - records.count
            let batch = try await withThrowingTaskGroup(of: [OutboxRecord].self) { group in
                group.addTask { try await self.nextBatch(for: sink, limit: want) }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(Int(max(0, deadline.timeIntervalSinceNow) * 1000)))
                    return []
                }
                var taken = try await group.next() ?? []
                group.cancelAll()
                // The deadline and a batch can arrive together: a batch handed out is
                // in flight for the sink, so it must not be dropped here.
                while let more = try await group.next() { taken += more }
                return taken
            }
            records += batch
        }
        return records
    }

    /// Whether `sink` has nothing to hand out within `milliseconds`.
    func isIdle(_ sink: String, milliseconds: Int = 100) async throws -> Bool {
        try await take(1, from: sink, seconds: Double(milliseconds) / 1000).isEmpty
    }
}
