import ArgumentParser
import CIBridgeOutbox
import Foundation

/// The child process of the outbox crash tests: appends under load (with small
/// segments, so rotation is frequent) while a consumer acknowledges (so cursors
/// are being persisted), and prints `SEQUENCE WRITER N` for every append that
/// returned, unbuffered (payloads start `r<run>-w<writer>-n<n>|`). The test kills it with SIGKILL at a random moment and
/// checks that every printed record is in the log exactly once.
struct OutboxCrashWriter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox-crash-writer",
        abstract: "Helper for the outbox crash tests: append until killed.",
        shouldDisplay: false
    )

    @Option var directory: String
    @Option var writers = 8
    @Option var segmentBytes: Int64 = 64 * 1024
    @Option(help: "Run number, part of every payload so runs are told apart.") var run = 0

    func run() async throws {
        let outbox = try Outbox(
            directory: directory,
            configuration: OutboxConfiguration(sinks: ["s"], segmentBytes: segmentBytes, minFreeBytes: 0, retentionSeconds: 0))
        let first = "ready\n"
        FileHandle.standardOutput.write(Data(first.utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var n = 0
                    while true {
                        let payload = Array("r\(run)-w\(writer)-n\(n)|".utf8) + [UInt8](repeating: 0x2E, count: 300 + (n * 37) % 900)
                        let sequences = try await outbox.append([OutboxEntry(key: "k\(writer % 3)", payload: payload)])
                        FileHandle.standardOutput.write(Data("\(sequences[0]) \(writer) \(n)\n".utf8))
                        n += 1
                    }
                }
            }
            group.addTask {
                // A consumer that acknowledges, so cursors are written and segments deleted while we run.
                while true {
                    for record in try await outbox.nextBatch(for: "s", limit: 200) { outbox.ack("s", record.sequence) }
                }
            }
            try await group.next()
        }
    }
}
