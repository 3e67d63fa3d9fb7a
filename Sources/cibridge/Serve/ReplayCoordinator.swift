import CIBridgeConfiguration
import CIBridgeOutbox
import Foundation

#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Picks up `cibridge replay` requests left in `<outbox>/control/` while the
/// service holds the outbox, runs them, and writes their progress next to them.
/// Its file work runs on a queue of its own, never on the cooperative pool.
struct ReplayCoordinator: Service {
    let outbox: Outbox
    let configuration: BridgeConfiguration
    let logger: Logger
    private let files = DispatchQueue(label: "cibridge.replay.control")

    init(outbox: Outbox, configuration: BridgeConfiguration, logger: Logger) {
        self.outbox = outbox
        self.configuration = configuration
        self.logger = logger
    }

    var control: String { configuration.outbox.directory + "/control" }

    /// Runs `body` on the control files' queue.
    private func onFiles<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            files.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// The requests waiting in the control directory, taken (read and removed), oldest name first.
    private func takeRequests() throws -> [(data: Data, statusPath: String)] {
        var requests: [(Data, String)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: control).sorted()
        where name.hasPrefix("replay-") && name.hasSuffix(".request") {
            let path = control + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            try FileManager.default.removeItem(atPath: path)
            requests.append((data, control + "/" + name.dropLast(".request".count) + ".status"))
        }
        return requests
    }

    func run() async throws {
        let control = self.control
        try await onFiles { try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true) }
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var lastError: String?
                while !Task.isCancelled {
                    do {
                        for (data, statusPath) in try await onFiles({ try self.takeRequests() }) {
                            group.addTask { await self.serve(data, statusPath: statusPath) }
                        }
                        lastError = nil
                    } catch {
                        // Logged once per different error, not every 300 ms.
                        if "\(error)" != lastError { logger.error("replay requests cannot be read", metadata: ["error": "\(error)"]) }
                        lastError = "\(error)"
                    }
                    // Cancellation (graceful shutdown) ends the loop; it is not an error.
                    try? await Task.sleep(for: .milliseconds(300))
                }
                group.cancelAll()
            }
        }
    }

    private func serve(_ data: Data, statusPath: String) async {
        let files = self.files
        let logger = self.logger
        /// Written on the files' queue; the CLI polls the file, so a failed write is logged, not fatal.
        @Sendable func write(_ progress: ReplayRunner.Progress) {
            files.async {
                do {
                    try JSONEncoder().encode(progress).write(to: URL(fileURLWithPath: statusPath + ".tmp"))
                    guard rename(statusPath + ".tmp", statusPath) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                } catch {
                    logger.error("replay progress cannot be written", metadata: ["path": "\(statusPath)", "error": "\(error)"])
                }
            }
        }
        do {
            let request = try JSONDecoder().decode(ReplayRunner.Request.self, from: data)
            guard configuration.sinkNames.contains(request.sink) else {
                throw ValidationFailure("this service has no \(request.sink) sink")
            }
            let (first, last) = try await ReplayRunner.bounds(request, outbox: outbox)
            logger.notice("replay started", metadata: ["sink": "\(request.sink)", "from": "\(first)", "until": "\(last)"])
            let runner = ReplayRunner(outbox: outbox, configuration: configuration, target: request.sink, from: first, until: last, logger: logger)
            try await runner.run { done, total in write(.init(state: "running", done: done, total: total, message: "")) }
            let total = last >= first ? Int(last - first + 1) : 0
            write(.init(state: "finished", done: total, total: total, message: ""))
            logger.notice("replay finished", metadata: ["sink": "\(request.sink)", "records": "\(total)"])
        } catch {
            logger.error("replay failed", metadata: ["error": "\(error)"])
            write(.init(state: "failed", done: 0, total: 0, message: "\(error)"))
        }
    }
}
