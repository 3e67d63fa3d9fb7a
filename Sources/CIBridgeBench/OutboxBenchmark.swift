import ArgumentParser
import CIBridgeOutbox
import Foundation

struct OutboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Append throughput and latency of the outbox with fsync always, at 1, 16 and 64 concurrent writers."
    )

    @Option(help: "Directory for the benchmark's outboxes (removed afterwards). Default: a new one under the current directory.")
    var directory: String?

    @Option(help: "Seconds per row.")
    var seconds = 5.0

    @Option(help: "Record size in bytes.")
    var size = 1200

    @Option(parsing: .upToNextOption, help: "Concurrent writers per row.")
    var writers: [Int] = [1, 16, 64]

    @Option(help: "The outbox's commit window in microseconds (serve's outbox.commit_window; 0: none).")
    var commitWindow = CommitWindow.standard.microseconds

    func run() async throws {
        let base = directory ?? FileManager.default.currentDirectoryPath + "/.bench-outbox-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        print("outbox append benchmark: \(size)-byte records, fsync always, commit window \(commitWindow) µs, \(seconds) s per row, \(ProcessInfo.processInfo.processorCount) cores")
        print("directory: \(base)")
        print("")
        print("writers    records/s       MB/s   p50 ms   p99 ms   max ms   records  per commit")
        for count in writers {
            let path = base + "/w\(count)"
            try? FileManager.default.removeItem(atPath: path)
            let configuration = OutboxConfiguration(
                sinks: ["bench"], commitWindow: CommitWindow(microseconds: commitWindow), minFreeBytes: 0)
            let outbox = try Outbox(directory: path, configuration: configuration)
            let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            let start = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for writer in 0..<count {
                    group.addTask {
                        var mine: [Double] = []
                        var n = 0
                        while ContinuousClock.now < deadline {
                            let began = ContinuousClock.now
                            _ = try await outbox.append([OutboxEntry(key: "wf-\(writer)-\(n % 7)", payload: payload)])
                            mine.append((ContinuousClock.now - began).milliseconds)
                            n += 1
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Double]()) { $0 += $1 }.sorted()
            }
            let elapsed = (ContinuousClock.now - start).milliseconds / 1000
            let commits = outbox.commitCounts
            await outbox.close()
            try? FileManager.default.removeItem(atPath: path)
            let rate = Double(latencies.count) / elapsed
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            print(
                String(format: "%7d  %11.0f  %9.1f  %7.3f  %7.3f  %7.3f  %8d  %10.1f", count, rate, rate * Double(size) / 1e6,
                       percentile(0.5), percentile(0.99), latencies.last ?? 0, latencies.count,
                       Double(commits.appends) / Double(max(commits.commits, 1))))
        }
        try? FileManager.default.removeItem(atPath: base)
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
