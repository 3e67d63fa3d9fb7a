import ArgumentParser

struct ConsumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print the envelopes cibridge published, as JSON Lines.",
        subcommands: [ConsumeKafkaCommand.self, ConsumeRedisCommand.self]
    )
}
