import Dispatch
import Foundation
import Synchronization

/// Callback bodies cibridge refused (400), kept with their headers and the
/// reason so nothing Tencent sent is lost: `<dir>/<time>-<pid>-<n>.body` and
/// `<dir>/<time>-<pid>-<n>.json`. Bounded by count and bytes; when full, new
/// rejects are logged but not kept.
public final class Quarantine: Sendable {
    public let directory: String
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

    public init(directory: String, maxFiles: Int = 10_000, maxBytes: Int = 256 << 20) throws {
        self.directory = directory
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        // Rejected bodies are as private as the outbox: owner and group only.
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
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
        try Self.create(bodyPath, body)
        do {
            try Self.create(directory + "/" + name + ".json", Array(description))
        } catch {
            throw Self.removing(bodyPath, after: error)
        }
    }

    /// Creates `path` (it must not exist) with `bytes`, readable by owner and group only.
    private static func create(_ path: String, _ bytes: [UInt8]) throws(QuarantineError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw failure(path, "cannot create") }
        // Exactly 0640 whatever the umask.
        guard fchmod(fd, 0o640) == 0 else { throw closing(fd, path, failure(path, "cannot set the mode of")) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw closing(fd, path, failure(path, "cannot write")) }
            offset += count
        }
        guard close(fd) == 0 else { throw removing(path, after: failure(path, "cannot close")) }
    }

    /// The error for `action` on `path`, with `errno`'s text.
    private static func failure(_ path: String, _ action: String) -> QuarantineError {
        QuarantineError(.writeFailed, "\(action) \(path): \(String(cString: strerror(errno)))")
    }

    /// Closes and removes the half-written `path`; `error`, and what removing failed with.
    private static func closing(_ fd: Int32, _ path: String, _ error: QuarantineError) -> QuarantineError {
        close(fd)
        return removing(path, after: error)
    }

    /// Removes the half-written `path`; `error`, and what removing it failed with:
    /// a file left behind is counted against the quarantine at the next start.
    private static func removing(_ path: String, after error: QuarantineError) -> QuarantineError {
        guard unlink(path) != 0, errno != ENOENT else { return error }
        return QuarantineError(error.code, "\(error.message); \(path) could not be removed either: \(String(cString: strerror(errno)))")
    }
}
