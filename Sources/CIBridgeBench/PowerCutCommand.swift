import ArgumentParser
import CIBridgePowerCut
import Foundation

/// `cibridge-bench powercut`: the model-based power-cut run (``PowerCutRun``)
/// over many seeds until time is up, half of them with injected EIO, ENOSPC
/// and short writes. `scripts/powercut` runs it; its last line sums the run.
struct PowerCutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powercut",
        abstract: "Random outbox operations and power cuts until time is up; prints what was explored and found."
    )

    @Option(help: "Stop starting new runs after this many seconds.") var seconds = 300
    @Option(help: "The first seed; each run takes the next.") var seed: UInt64 = 1
    @Option(help: "Power cuts per run.") var cuts = 10
    @Option(help: "A scratch directory (default: a new one under the temporary directory).") var directory: String?
    @Flag(help: "On a finding, write every disk call of its run to standard error.") var trace = false

    func run() async throws {
        let root = directory ?? (NSTemporaryDirectory() + "cibridge-powercut-\(getpid())")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let faults = FaultPlan(syncFailure: 0.01, noSpace: 0.02, shortWrite: 0.05)
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        var total = PowerCutReport()
        var next = seed
        var lastPrint = Date()
        while Date() < deadline {
            let scratch = root + "/run-\(next)"
            var run = PowerCutRun(seed: next, directory: scratch, cuts: cuts, faults: next % 2 == 0 ? faults : .none)
            run.tracing = trace
            let report = await run.run()
            try? FileManager.default.removeItem(atPath: scratch)
            total = total.adding(report)
            for finding in report.findings { print("FINDING \(finding)") }
            next += 1
            if Date().timeIntervalSince(lastPrint) >= 30 {
                print("after \(total.runs) runs: \(total.powerCuts) power cuts, \(total.failures) findings")
                lastPrint = Date()
            }
        }
        print("seeds \(seed)..<\(next); runs with injected faults: every even seed")
        print("cuts landed before: \(total.cutPoints)")
        print(total.summary)
        if total.failures > 0 { throw ExitCode(1) }
    }
}
