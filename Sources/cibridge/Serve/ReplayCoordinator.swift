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
struct ReplayCoordinator: Service {
    let outbox: Outbox
    let configuration: BridgeConfiguration
    let logger: Logger

    var control: String { configuration.outbox.directory + "/control" }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                while !Task.isCancelled {
                    for name in ((try? FileManager.default.contentsOfDirectory(atPath: control)) ?? []).sorted()
                    where name.hasPrefix("replay-") && name.hasSuffix(".request") {
                        let path = control + "/" + name
                        guard let data = FileManager.default.contents(atPath: path) else { continue }
                        try? FileManager.default.removeItem(atPath: path)
                        let statusPath = control + "/" + name.dropLast(".request".count) + ".status"
                        group.addTask { await self.serve(data, statusPath: statusPath) }
                    }
                    // Cancellation (graceful shutdown) ends the loop; it is not an error.
                    try? await Task.sleep(for: .milliseconds(300))
                }
                group.cancelAll()
            }
        }
    }

    private func serve(_ data: Data, statusPath: String) async {
        @Sendable func write(_ progress: ReplayRunner.Progress) {
            if let encoded = try? JSONEncoder().encode(progress) {
                try? encoded.write(to: URL(fileURLWithPath: statusPath + ".tmp"))
                _ = rename(statusPath + ".tmp", statusPath)
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
