import ArgumentParser
import CIBridgeOutbox

struct OutboxRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Append dead letters to the log again, for their sink only. Needs the outbox stopped."
    )

    @OptionGroup var outbox: OutboxDirectoryOption
    @Option(help: "Only this sink (default: every sink with dead letters).") var sink: String?
    @Argument(help: "Original sequence numbers to requeue (default: all not yet requeued).") var sequences: [UInt64] = []

    func run() async throws {
        let inspector = try OutboxInspector(directory: outbox.directory)
        let sinks = sink.map { [$0] } ?? inspector.sinks
        let box = try await Outbox.open(directory: outbox.directory, configuration: OutboxConfiguration(sinks: inspector.sinks.union(sinks), minFreeBytes: 0))
        var total = 0
        for name in sinks {
            let appended = try await box.requeue(name, sequences: sequences.isEmpty ? nil : sequences)
            if !appended.isEmpty { print("\(name): requeued \(appended.count) as sequences \(appended.first!)…\(appended.last!)") }
            total += appended.count
        }
        await box.close()
        if total == 0 { print("nothing to requeue") }
    }
}

extension Array where Element == String {
    func union(_ other: [String]) -> [String] { Array(Set(self).union(other)).sorted() }
}
