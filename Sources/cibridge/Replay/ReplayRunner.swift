import CIBridgeConfiguration
import CIBridgeOutbox
import Foundation
import Logging

/// Re-publishes the records `from…until` to one sink through a temporary sink
/// of its own (`<sink>-replay-<id>`), so the sink's own cursor is untouched and
/// a replay stops where it was asked to.
struct ReplayRunner {
    let outbox: Outbox
    let configuration: BridgeConfiguration
    let target: String
    let from: UInt64
    let until: UInt64
    let logger: Logger

    /// A request as the CLI writes it for a running service.
    struct Request: Codable {
        var sink: String
        var fromSequence: UInt64?
        var sinceMilliseconds: Int64?
        var untilSequence: UInt64?
        var untilMilliseconds: Int64?
    }

    /// Progress as the service writes it for the CLI.
    struct Progress: Codable {
        var state: String  // running, finished, failed
        var done: Int
        var total: Int
        var message: String
    }

    /// Resolves a request's bounds against `outbox`: (first, last) sequence.
    static func bounds(_ request: Request, outbox: Outbox) async throws -> (UInt64, UInt64) {
        let first: UInt64
        if let sequence = request.fromSequence {
            first = sequence
        } else {
            first = try await outbox.sequence(appendedAtOrAfter: request.sinceMilliseconds ?? 0)
        }
        var last = outbox.lastSequence
        if let sequence = request.untilSequence { last = min(last, sequence) }
        if let time = request.untilMilliseconds { last = min(last, try await outbox.sequence(appendedAtOrAfter: time) &- 1) }
        return (first, last)
    }

    func run(progress: @Sendable (Int, Int) -> Void) async throws {
        guard let kind = SinkKind(rawValue: target) else {
            throw ValidationFailure("unknown sink '\(target)' (kafka or redis)")
        }
        guard configuration.sinkNames.contains(target) else {
            throw ValidationFailure("replay to \(target) needs \(kind == .kafka ? "kafka.brokers" : "redis.url")")
        }
        let total = until >= from ? Int(until - from + 1) : 0
        guard total > 0 else {
            progress(0, 0)
            return
        }
        let name = "\(target)-replay-\(UUID().uuidString.prefix(8).lowercased())"
        // Made before the temporary sink exists, so a configuration mistake leaves nothing behind.
        let sink = try SinkFactory(configuration: configuration, logger: logger)
            .makeSink(kind, name: name, outbox: outbox, allowEmbedded: false)
        try await outbox.addSink(name, routingAs: target, from: from, through: until)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        while true {
            let watermark = outbox.status().sinks.first { $0.name == name }?.watermark ?? 0
            let done = watermark >= from ? min(total, Int(watermark - from + 1)) : 0
            progress(done, total)
            if watermark >= until { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        task.cancel()
        do {
            try await task.value
        } catch {
            logger.error("replay sink stopped with an error", metadata: ["sink": "\(name)", "error": "\(error)"])
        }
        try await outbox.removeSink(name)
    }
}
