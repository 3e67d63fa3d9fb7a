import ArgumentParser

@main
struct CIBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cibridge",
        abstract: "Bridge Tencent Cloud Infinite job callbacks to Kafka and Redis streams.",
        version: CIBridgeVersion.current,
        subcommands: [ServeCommand.self, ReplayCommand.self, DecodeCommand.self, OutboxCommand.self, TopCommand.self, DevKafkaCommand.self, ConsumeCommand.self, ConfigCommand.self, VersionCommand.self]
    )

    /// Arguments from ``ProcessArguments`` (which survives `LD_PRELOAD` shims).
    static func main() async {
        await main(ProcessArguments.current)
    }
}
