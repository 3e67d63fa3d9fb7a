import Foundation
import Synchronization

/// Callback bodies cibridge refused (400), kept with their headers and the
/// reason so nothing Tencent sent is lost: `<dir>/<time>-<n>.body` and
/// `<dir>/<time>-<n>.json`. Bounded by count and bytes; when full, new
/// rejects are logged but not kept.
public final class Quarantine: Sendable {
    public let directory: String
    let maxFiles: Int
    let maxBytes: Int
    private let counter = Mutex<(count: Int, bytes: Int, next: Int)>((0, 0, 0))

    public init(directory: String, maxFiles: Int = 10_000, maxBytes: Int = 256 << 20) throws {
        self.directory = directory
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        // Rejected bodies are as private as the outbox: owner and group only.
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var bytes = 0
        for name in names where name.hasSuffix(".body") {
            bytes += (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0
        }
        counter.withLock { $0 = (names.filter { $0.hasSuffix(".body") }.count, bytes, 0) }
    }

    /// Keeps `body`; returns the file name, or `nil` when the quarantine is full.
    public func keep(body: [UInt8], headers: [(String, String)], reason: String, remote: String?) -> String? {
        let slot = counter.withLock { state -> Int? in
            guard state.count < maxFiles, state.bytes + body.count <= maxBytes else { return nil }
            state.count += 1
            state.bytes += body.count
            state.next += 1
            return state.next
        }
        guard let slot else { return nil }
        let stamp = Int64(Date().timeIntervalSince1970 * 1000)
        let name = "\(stamp)-\(getpid())-\(slot)"
        let meta: [String: Any] = [
            "receivedAt": ISO8601DateFormatter().string(from: Date()), "reason": reason, "remote": remote ?? "",
            "headers": headers.map { ["name": $0.0, "value": $0.1] }, "bytes": body.count,
        ]
        let bodyPath = directory + "/" + name + ".body"
        FileManager.default.createFile(atPath: bodyPath, contents: Data(body), attributes: [.posixPermissions: 0o640])
        if let json = try? JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys, .prettyPrinted]) {
            FileManager.default.createFile(
                atPath: directory + "/" + name + ".json", contents: json, attributes: [.posixPermissions: 0o640])
        }
        return name + ".body"
    }
}
