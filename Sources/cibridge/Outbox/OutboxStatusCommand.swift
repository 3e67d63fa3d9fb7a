import ArgumentParser
import CIBridgeOutbox
import Foundation

struct OutboxStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Records, bytes, segments; per sink the pending count, oldest pending age and dead letters."
    )

    @OptionGroup var outbox: OutboxDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let inspector = try OutboxInspector(directory: outbox.directory)
        let status = try inspector.status()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
            return
        }
        print("outbox      \(status.directory)")
        let range = status.firstSequence.map { "\($0)…\(status.lastSequence ?? $0)" } ?? "empty"
        print("records     \(status.records) (sequences \(range))")
        print("bytes       \(status.bytes) in \(status.segments) segment\(status.segments == 1 ? "" : "s")")
        print("quarantined \(status.quarantined)")
        if status.sinks.isEmpty { print("sinks       none yet") }
        for sink in status.sinks {
            let age = sink.oldestPendingAgeMilliseconds.map { ", oldest \(formatAge($0))" } ?? ""
            print("sink \(sink.name): delivered through \(sink.watermark), \(sink.pending) pending\(age), \(sink.deadLetters) dead letters")
        }
        for note in inspector.pendingRepairs {
            print("note (at the next start, unless the service is writing right now): \(note)")
        }
    }
}

/// `1.2 s`, `3 min`, `2.5 h`.
func formatAge(_ milliseconds: Int64) -> String {
    let seconds = Double(milliseconds) / 1000
    if seconds < 120 { return String(format: "%.1f s", seconds) }
    if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
    return String(format: "%.1f h", seconds / 3600)
}
