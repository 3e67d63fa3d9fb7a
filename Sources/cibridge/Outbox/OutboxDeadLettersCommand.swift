import ArgumentParser
import CIBridgeOutbox

struct OutboxDeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "Print the records sinks gave up on, with reason and time, as JSON Lines."
    )

    @OptionGroup var outbox: OutboxDirectoryOption
    @Option(help: "Only this sink.") var sink: String?
    @Flag(help: "Also those already requeued.") var all = false

    func run() throws {
        let inspector = try OutboxInspector(directory: outbox.directory)
        var output: [UInt8] = []
        for letter in try inspector.deadLetters(sink: sink) where all || !letter.requeued {
            output += recordJSON(letter.record, extra: [
                ("sink", letter.sink), ("reason", letter.reason), ("deadAt", formatMilliseconds(letter.time)),
                ("requeued", letter.requeued ? "yes" : "no"),
            ])
            output.append(UInt8(ascii: "\n"))
        }
        writeStandardOutput(output)
    }
}
