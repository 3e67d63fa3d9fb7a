import ArgumentParser
import CIBridgeCore
import CIBridgeOutbox

struct OutboxRewindCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewind",
        abstract: "Deliver again to one sink, from a sequence or a time. Needs the outbox stopped.",
        discussion: "TIME is RFC 3339 (2026-11-29T08:00:00+08:00) or an age: 90s, 30m, 2h, 1d."
    )

    @OptionGroup var outbox: OutboxDirectoryOption
    @Option(help: "The sink to rewind.") var sink: String
    @Option(name: .customLong("to-seq"), help: "Deliver again from this sequence.") var toSequence: UInt64?
    @Option(help: "Deliver again what was appended since TIME.") var since: String?

    func validate() throws {
        guard (toSequence == nil) != (since == nil) else {
            throw ValidationError("give exactly one of --to-seq or --since")
        }
        if let since, parseSince(since, now: 0) == nil {
            throw ValidationError("--since: '\(since)' is neither RFC 3339 nor an age like 30m")
        }
    }

    func run() async throws {
        let inspector = try OutboxInspector(directory: outbox.directory)
        let box = try await Outbox.open(directory: outbox.directory, configuration: OutboxConfiguration(sinks: inspector.sinks.union([sink]), minFreeBytes: 0))
        if let toSequence {
            try await box.rewind(sink, toSequence: toSequence)
        } else if let since, let time = parseSince(since, now: Outbox.nowMilliseconds()) {
            try await box.rewind(sink, toTime: time)
        }
        let status = box.status().sinks.first { $0.name == sink }
        await box.close()
        print("\(sink): delivered through \(status?.watermark ?? 0); \(status?.pending ?? 0) records will be delivered again")
    }
}

/// Milliseconds since the epoch for an RFC 3339 time or an age (`90s`, `30m`, `2h`, `1d`) before `now`.
func parseSince(_ text: String, now: Int64) -> Int64? {
    if let time = CallbackTime(text) { return time.epochSeconds * 1000 }
    guard let unit = text.last, let value = Int64(text.dropLast()), value >= 0 else { return nil }
    switch unit {
    case "s": return now - value * 1000
    case "m": return now - value * 60_000
    case "h": return now - value * 3_600_000
    case "d": return now - value * 86_400_000
    default: return nil
    }
}
