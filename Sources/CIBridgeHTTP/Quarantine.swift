import CIBridgeOutbox
import Dispatch
import Foundation
import Synchronization

/// Callback bodies cibridge refused (400), kept with their headers and the
/// reason so nothing Tencent sent is lost: `<dir>/<time>-<pid>-<n>.body` and
/// `<dir>/<time>-<pid>-<n>.json`. Bounded by count and bytes; when full, new
/// rejects are logged but not kept.
///
/// A kept body is durable before the 400 is sent (file `fdatasync`, directory
/// `fsync`), through the outbox's file seam, so a power cut cannot take it.
public final class Quarantine: Sendable {
    public let directory: String
    let fileSystem: any OutboxFileSystem
    let maxFiles: Int
    let maxBytes: Int
    /// Files and bytes kept, and the number of the next file.
    /// Confinement: any request task takes it to reserve a slot before writing,
    /// or to give it back when the write failed; never held across file I/O.
    private let quota = Mutex<(count: Int, bytes: Int, next: Int)>((0, 0, 0))
    /// Where the files are written. Creating and writing files blocks the thread,
    /// and Swift's cooperative pool has one thread per core: a slow or stuck
    /// disk would stall every request scheduled on the thread it holds. This
    /// serial queue's thread blocks instead, and a burst of rejects writes one
    /// after the other rather than all at once.
    private let queue = DispatchQueue(label: "cibridge.quarantine")

    /// Opens (creating if needed) the quarantine in `directory`, whose parent must exist.
    public init(
        directory: String, maxFiles: Int = 10_000, maxBytes: Int = 256 << 20, fileSystem: any OutboxFileSystem = PosixFileSystem()
    ) throws {
        self.directory = directory
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.fileSystem = fileSystem
        // Rejected bodies are as private as the outbox: owner and group only (0750, files 0640).
        try fileSystem.makeDurableDirectory(directory)
        let bodies = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".body") }
        var bytes = 0
        for name in bodies {
            bytes += try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int ?? 0
        }
        quota.withLock { $0 = (bodies.count, bytes, 0) }
    }

    /// Keeps `body`; returns the file name, or `nil` when the quarantine is full.
    /// The files are written on the quarantine's own queue; this waits for them.
    public func keep(body: [UInt8], headers: [(String, String)], reason: String, remote: String?) async throws(QuarantineError) -> String? {
        let slot = quota.withLock { state -> Int? in
            guard state.count < maxFiles, state.bytes + body.count <= maxBytes else { return nil }
            state.count += 1
            state.bytes += body.count
            state.next += 1
            return state.next
        }
        guard let slot else { return nil }
        let name = "\(Int64(Date().timeIntervalSince1970 * 1000))-\(getpid())-\(slot)"
        let written: Result<Void, QuarantineError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(QuarantineError) in
                    try self.writeFiles(name: name, body: body, headers: headers, reason: reason, remote: remote)
                })
            }
        }
        do {
            try written.get()
        } catch {
            // Nothing was kept: the slot is free again.
            quota.withLock { state in
                state.count -= 1
                state.bytes -= body.count
            }
            throw error
        }
        return name + ".body"
    }

    /// Writes the body and its description; on failure, removes what it wrote.
    private func writeFiles(name: String, body: [UInt8], headers: [(String, String)], reason: String, remote: String?) throws(QuarantineError) {
        let meta: [String: Any] = [
            "receivedAt": ISO8601DateFormatter().string(from: Date()), "reason": reason, "remote": remote ?? "",
            "headers": headers.map { ["name": $0.0, "value": $0.1] }, "bytes": body.count,
        ]
        let description: Data
        do {
            description = try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys, .prettyPrinted])
        } catch {
            throw QuarantineError(.encodingFailed, "\(name).json: \(error)")
        }
        let bodyPath = directory + "/" + name + ".body"
        let descriptionPath = directory + "/" + name + ".json"
        do throws(OutboxError) {
            try create(bodyPath, body)
            do {
                try create(descriptionPath, Array(description))
                // Both entries durable before the 400 says the body was kept.
                try fileSystem.syncDirectory(directory)
            } catch {
                try? fileSystem.remove(descriptionPath)
                throw error
            }
        } catch {
            throw removing(bodyPath, after: error)
        }
    }

    /// Creates `path` (it must not exist) with `bytes`, synced; 0640 (``PosixFileSystem``).
    private func create(_ path: String, _ bytes: [UInt8]) throws(OutboxError) {
        let file = try fileSystem.open(path, create: true, exclusive: true, readOnly: false)
        try file.write(bytes, at: 0)
        try file.syncData()
    }

    /// Removes the half-written `path`; `error`, and what removing it failed with:
    /// a file left behind is counted against the quarantine at the next start.
    private func removing(_ path: String, after error: OutboxError) -> QuarantineError {
        do throws(OutboxError) {
            try fileSystem.remove(path)
            return QuarantineError(.writeFailed, error.message)
        } catch let removal {
            return QuarantineError(.writeFailed, "\(error.message); \(path) could not be removed either: \(removal.message)")
        }
    }
}
