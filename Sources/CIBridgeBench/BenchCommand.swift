import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cibridge-bench",
        abstract: "cibridge benchmarks. Build with -c release; numbers are printed, never asserted.",
        subcommands: [
            DecodeBenchmark.self, OutboxBenchmark.self, KafkaDrainBenchmark.self, RedisDrainBenchmark.self, BareHTTPTarget.self, BareNIOTarget.self,
            OutboxCrashWriter.self, PowerCutCommand.self,
        ]
    )
}
