import CIBridgeOutbox
import Foundation
import CIBridgeTestSupport
import Testing

/// A real process appending under load, killed with SIGKILL at random moments
/// (mid-write, mid-rotation, mid-cursor-update), then reopened: every append
/// that returned must be in the log exactly once, or already delivered and
/// legitimately deleted.
@Suite("Outbox crash", .serialized)
struct OutboxCrashTests {
    static let writer = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("cibridge-bench")

    @Test("SIGKILL under load loses no acknowledged append", arguments: [UInt64(7)])
    func killLoop(seed: UInt64) async throws {
        let dir = try TemporaryDirectory("outbox-crash")
        defer { dir.remove() }
        var rng = SeededGenerator(seed: seed)
        var acknowledged: [UInt64: String] = [:]  // sequence → "writer n"
        let cycles = 8
        for cycle in 0..<cycles {
            let pause = Int.random(in: 150...700, using: &rng)
            // On a thread of its own: it sleeps and waits for the child, which on the
            // cooperative pool would stall the tests running beside this one.
            let lines = try await offPool { [self] in try runAndKill(directory: dir.path, run: cycle, afterMilliseconds: pause) }
            for line in lines {
                let parts = line.split(separator: " ")
                guard parts.count == 3, let sequence = UInt64(parts[0]) else { continue }
                #expect(acknowledged[sequence] == nil, "cycle \(cycle): sequence \(sequence) acknowledged twice")
                acknowledged[sequence] = "r\(cycle)-w\(parts[1])-n\(parts[2])|"
            }
            try await verify(directory: dir.path, acknowledged: acknowledged, cycle: cycle)
        }
        #expect(acknowledged.count > 200, "the writer acknowledged too little to mean anything (\(acknowledged.count))")
    }

    /// Starts the writer, lets it run, kills it with SIGKILL; returns the complete lines it printed.
    private func runAndKill(directory: String, run: Int, afterMilliseconds: Int) throws -> [String] {
        let writer = try ChildProcess(Self.writer.path, ["outbox-crash-writer", "--directory", directory, "--run", String(run)])
        // Let it start (recovery, first appends), then kill it at a random moment.
        _ = writer.waitForStdout(containing: "ready", seconds: 10)
        usleep(UInt32(afterMilliseconds) * 1000)
        writer.kill()
        // Only whole lines count: a line cut by the kill was never fully reported.
        var text = writer.stdout.text
        if !text.hasSuffix("\n"), let last = text.lastIndex(of: "\n") { text = String(text[...last]) }
        return text.split(separator: "\n").map(String.init)
    }

    private func verify(directory: String, acknowledged: [UInt64: String], cycle: Int) async throws {
        let outbox = try Outbox(
            directory: directory,
            configuration: OutboxConfiguration(sinks: ["s", "verify\(cycle)"], segmentBytes: 64 * 1024, minFreeBytes: 0, retentionSeconds: 0))
        let status = outbox.status()
        let delivered = status.sinks.first { $0.name == "s" }!.watermark
        var seen: [UInt64: [UInt8]] = [:]
        var prefixes = Set<String>()
        // Until the verifying sink has nothing pending (a pause in reading, on a
        // machine busy with other tests, is not the end of the log).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let batch = try await outbox.take(5_000, from: "verify\(cycle)", seconds: 0.3)
            if batch.isEmpty && outbox.status().sinks.first(where: { $0.name == "verify\(cycle)" })?.pending == 0 { break }
            for record in batch {
                let twice = seen[record.sequence] != nil
                #expect(!twice, "cycle \(cycle): sequence \(record.sequence) twice in the log")
                seen[record.sequence] = record.payload
                let prefix = String(decoding: record.payload.prefix { $0 != UInt8(ascii: "|") }, as: UTF8.self)
                let duplicate = prefixes.contains(prefix)
                #expect(!duplicate, "cycle \(cycle): \(prefix) appended twice")
                prefixes.insert(prefix)
                outbox.ack("verify\(cycle)", record.sequence)
            }
        }
        let oldest = seen.keys.min() ?? UInt64.max
        var lost: [UInt64] = []
        for (sequence, prefix) in acknowledged {
            if let payload = seen[sequence] {
                #expect(payload.starts(with: Array(prefix.utf8)), "cycle \(cycle): sequence \(sequence) holds another record")
            } else if !(sequence < oldest && sequence <= delivered) {
                lost.append(sequence)
            }
        }
        let lostCount = lost.count
        #expect(lostCount == 0, "cycle \(cycle): lost \(lostCount) acknowledged records, e.g. \(lost.sorted().prefix(5)); recovery: \(outbox.recovery.notes)")
        await outbox.close()
    }

    /// Runs `body` on a new thread and returns its result.
    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
