import ArgumentParser
import CIBridgeConfiguration
import CIBridgeCore
import CIBridgeOutbox
import Foundation
import Synchronization
import Logging

#if canImport(Glibc)
import Glibc
#endif

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish retained records again to one sink, e.g. after a downstream loss.",
        discussion: """
            While cibridge serve runs, the request goes to it through the outbox directory and this \
            command shows its progress; otherwise it opens the outbox and publishes itself, with the \
            sink settings from --config / CIBRIDGE_* / flags. Either way the sink's own progress is \
            untouched: the replay has a cursor of its own and stops at --until (default: now). \
            TIME is RFC 3339 or an age (90s, 30m, 2h, 1d).
            """
    )

    @Option(help: "kafka or redis.") var sink: String
    @Option(help: "Replay what was appended since TIME.") var since: String?
    @Option(name: .customLong("from-seq"), help: "Replay from this sequence.") var fromSequence: UInt64?
    @Option(help: "Stop at what was appended before TIME.") var until: String?
    @Option(name: .customLong("until-seq"), help: "Stop after this sequence.") var untilSequence: UInt64?
    @OptionGroup var options: ConfigurationOptions

    func validate() throws {
        guard ["kafka", "redis"].contains(sink) else { throw ValidationError("--sink is kafka or redis") }
        guard (since == nil) != (fromSequence == nil) else { throw ValidationError("give exactly one of --since or --from-seq") }
        guard options.outbox != nil || options.config != nil else { throw ValidationError("give --outbox (or --config with outbox.dir)") }
        for (flag, value) in [("--since", since), ("--until", until)] {
            if let value, parseSince(value, now: 0) == nil { throw ValidationError("\(flag): '\(value)' is neither RFC 3339 nor an age like 30m") }
        }
    }

    func run() async throws {
        let now = Outbox.nowMilliseconds()
        let request = ReplayRunner.Request(
            sink: sink, fromSequence: fromSequence, sinceMilliseconds: since.flatMap { parseSince($0, now: now) },
            untilSequence: untilSequence, untilMilliseconds: until.flatMap { parseSince($0, now: now) })
        let configuration: BridgeConfiguration
        do {
            configuration = try options.load(requireSink: false)
        } catch {
            report("config error: \(error)")
            throw ExitCode(78)
        }
        let directory = configuration.outbox.directory
        guard FileManager.default.fileExists(atPath: directory + "/segments") else {
            report("\(directory) is not an outbox (no segments/ directory)")
            throw ExitCode(1)
        }
        let opened: Result<Outbox, OutboxError>
        do {
            opened = .success(try await Outbox.open(directory: directory, configuration: configuration.outboxConfigurationIncluding(sink)))
        } catch {
            opened = .failure(error)
        }
        if case .failure(let error) = opened, error.code == .locked {
            try await askRunningService(directory: directory, request: request)
            return
        }
        let outbox = try opened.get()
        var logger = Logger(label: "cibridge.replay")
        logger.logLevel = .warning
        let (first, last) = try await ReplayRunner.bounds(request, outbox: outbox)
        let runner = ReplayRunner(outbox: outbox, configuration: configuration, target: sink, from: first, until: last, logger: logger)
        let printer = ProgressPrinter(label: "replay \(sink) \(first)…\(last)")
        do {
            try await runner.run { done, total in printer.show(done: done, total: total) }
        } catch {
            await outbox.close()
            throw error
        }
        printer.finish()
        await outbox.close()
    }

    /// Hands the request to the running service and follows its progress file.
    private func askRunningService(directory: String, request: ReplayRunner.Request) async throws {
        let control = directory + "/control"
        try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
        let id = UUID().uuidString.lowercased()
        let temporary = control + "/.\(id).tmp"
        try JSONEncoder().encode(request).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(atPath: temporary, toPath: control + "/replay-\(id).request")
        let statusPath = control + "/replay-\(id).status"
        let printer = ProgressPrinter(label: "replay \(sink) (by the running service)")
        let pickUpDeadline = Date().addingTimeInterval(15)
        while true {
            if let data = FileManager.default.contents(atPath: statusPath),
                let progress = try? JSONDecoder().decode(ReplayRunner.Progress.self, from: data)
            {
                printer.show(done: progress.done, total: progress.total)
                if progress.state == "finished" {
                    printer.finish()
                    try? FileManager.default.removeItem(atPath: statusPath)
                    return
                }
                if progress.state == "failed" {
                    report("replay failed: \(progress.message)")
                    throw ExitCode(1)
                }
            } else if Date() > pickUpDeadline {
                try? FileManager.default.removeItem(atPath: control + "/replay-\(id).request")
                report("the outbox is in use but no running cibridge serve picked up the replay request")
                throw ExitCode(1)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// A progress bar on a terminal; a line a second otherwise.
final class ProgressPrinter: Sendable {
    let label: String
    let terminal = isatty(STDOUT_FILENO) == 1
    /// When the last line was printed, and at what count. Taken by whichever
    /// task reports progress, for a comparison and an assignment.
    private let last = Mutex<(Date, Int)>((.distantPast, -1))

    init(label: String) { self.label = label }

    func show(done: Int, total: Int) {
        let shouldPrint = last.withLock { state -> Bool in
            let due = terminal ? done != state.1 : Date().timeIntervalSince(state.0) >= 1 || done == total
            if due { state = (Date(), done) }
            return due
        }
        guard shouldPrint else { return }
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            writeStandardOutput(Array("\r\(label) [\(bar)] \(Int(fraction * 100))% \(done)/\(total)".utf8))
        } else {
            writeStandardOutput(Array("\(label): \(done)/\(total)\n".utf8))
        }
    }

    func finish() {
        writeStandardOutput(Array((terminal ? "\n" : "") .utf8) + Array("\(label): done\n".utf8))
    }
}
