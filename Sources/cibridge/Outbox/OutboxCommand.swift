import ArgumentParser

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Look into and operate the disk-backed outbox.",
        discussion: """
            status, inspect, dead-letters and quarantine only read, and work while cibridge serve \
            runs. requeue and rewind change the outbox and need it stopped (the outbox is locked \
            while in use).
            """,
        subcommands: [
            OutboxStatusCommand.self, OutboxInspectCommand.self, OutboxDeadLettersCommand.self,
            OutboxRequeueCommand.self, OutboxRewindCommand.self, OutboxQuarantineCommand.self,
        ]
    )
}

struct OutboxDirectoryOption: ParsableArguments {
    @Option(name: .customLong("dir"), help: "The outbox directory.")
    var directory: String
}
