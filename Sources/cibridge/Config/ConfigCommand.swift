import ArgumentParser

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a configuration.",
        subcommands: [ConfigCheckCommand.self]
    )
}
