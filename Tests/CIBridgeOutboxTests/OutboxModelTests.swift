import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import Testing

/// Random sequences of append, take, ack (out of order), retry, dead-letter,
/// rewind, close/reopen and crash (dropped without closing), checked against a
/// simple in-memory model of what each sink must still receive.
@Suite("Outbox model")
struct OutboxModelTests {
    @Test("Random operations keep every appended record deliverable, exactly as appended", arguments: 0..<24)
    func randomOperations(seed: UInt64) async throws {
        let run = try ModelRun(seed: seed)
        defer { run.directory.remove() }
        for step in 0..<120 { try await run.step(step) }
        try await run.finalCheck()
        #expect(run.problems == [], "seed \(seed)")
    }
}

/// One model-based run: the real outbox and the model side by side.
final class ModelRun {
    static let sinks = ["a", "b"]
    let seed: UInt64
    let directory: TemporaryDirectory
    let config = OutboxConfiguration(
        sinks: ModelRun.sinks, segmentBytes: 4096, minFreeBytes: 0, retentionSeconds: 3600,
        retry: RetryPolicy(baseMilliseconds: 1, maxMilliseconds: 2))
    var rng: SeededGenerator
    var outbox: Outbox?
    var counter = 0
    var problems: [String] = []

    // The model.
    var payloads: [UInt64: [UInt8]] = [:]
    var keys: [UInt64: String] = [:]
    /// Per sink: resolved (acked or dead-lettered) and not rewound since.
    var resolved: [String: Set<UInt64>] = [:]
    /// Per sink: handed out, not resolved.
    var inFlight: [String: Set<UInt64>] = [:]
    /// Per sink: sequence → key of records retried and not resolved yet.
    var retrying: [String: [UInt64: String]] = [:]
    /// Per sink: handed out at least once since the last reopen or rewind.
    var dispatched: [String: Set<UInt64>] = [:]
    var dead: [String: Set<UInt64>] = [:]

    init(seed: UInt64) throws {
        self.seed = seed
        self.rng = SeededGenerator(seed: seed)
        self.directory = try TemporaryDirectory("outbox-model")
        self.outbox = try Outbox(directory: directory.path, configuration: config)
    }

    func step(_ step: Int) async throws {
        let sink = Self.sinks[Int.random(in: 0..<2, using: &rng)]
        let roll = Int.random(in: 0..<100, using: &rng)
        if roll >= 96 {
            // Crash: drop the outbox without closing. Appends that returned are durable;
            // acks that never reached a cursor file may be delivered again (at least once).
            outbox = nil
            outbox = try await reopen()
            inFlight = [:]
            retrying = [:]
            dispatched = [:]
            return
        }
        let box = outbox!
        if roll < 30 {
            try await append(box)
        } else if roll < 55 {
            try await take(box, sink: sink, step: step)
        } else if roll < 75 {
            if let sequence = pick(sink) {
                box.ack(sink, sequence)
                resolve(sink, sequence)
            }
        } else if roll < 85 {
            if let sequence = pick(sink) {
                box.retry(sink, sequence, after: Int64.random(in: 0...30, using: &rng))
                inFlight[sink]!.remove(sequence)
                retrying[sink, default: [:]][sequence] = keys[sequence]
            }
        } else if roll < 89 {
            if let sequence = pick(sink) {
                try await box.deadLetter(sink, sequence, reason: "model")
                resolve(sink, sequence)
                dead[sink, default: []].insert(sequence)
            }
        } else if roll < 92 {
            if let target = payloads.keys.sorted().randomElement(using: &rng) {
                try await box.rewind(sink, toSequence: target)
                resolved[sink] = resolved[sink, default: []].filter { $0 < target }
                inFlight[sink] = []
                retrying[sink] = [:]
                dispatched[sink] = []
            }
        } else {
            await box.close()
            outbox = try Outbox(directory: directory.path, configuration: config)
            inFlight = [:]
            retrying = [:]
            dispatched = [:]
        }
    }

    private func append(_ box: Outbox) async throws {
        var entries: [OutboxEntry] = []
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            counter += 1
            let key = "k\(Int.random(in: 0..<3, using: &rng))"
            entries.append(entry(counter, key: key, size: Int.random(in: 20...600, using: &rng)))
        }
        let sequences = try await box.append(entries)
        for (sequence, entry) in zip(sequences, entries) {
            if payloads[sequence] != nil { problems.append("sequence \(sequence) reused") }
            payloads[sequence] = entry.payload
            keys[sequence] = entry.key
        }
    }

    private func take(_ box: Outbox, sink: String, step: Int) async throws {
        let records = try await box.take(Int.random(in: 1...6, using: &rng), from: sink, seconds: 0.05)
        for record in records {
            if payloads[record.sequence] != record.payload { problems.append("step \(step): content of \(record.sequence)") }
            // Handed out for the first time while an earlier record of its key is in
            // retry: that would overtake it.
            if !dispatched[sink, default: []].contains(record.sequence) {
                for (sequence, key) in retrying[sink, default: [:]] where key == record.key && sequence < record.sequence {
                    problems.append("step \(step): \(sink) got \(record.sequence) ahead of retrying \(sequence)")
                }
            }
            dispatched[sink, default: []].insert(record.sequence)
            inFlight[sink, default: []].insert(record.sequence)
        }
    }

    private func pick(_ sink: String) -> UInt64? {
        inFlight[sink]?.sorted().randomElement(using: &rng)
    }

    private func resolve(_ sink: String, _ sequence: UInt64) {
        inFlight[sink]?.remove(sequence)
        retrying[sink]?[sequence] = nil
        resolved[sink, default: []].insert(sequence)
    }

    private func reopen() async throws -> Outbox {
        for _ in 0..<50 {
            if let opened = try? Outbox(directory: directory.path, configuration: config) { return opened }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try Outbox(directory: directory.path, configuration: config)
    }

    /// Drains every sink: each must deliver everything it has not resolved, with
    /// the right content; dead letters must all be on file.
    func finalCheck() async throws {
        let box = outbox!
        for sink in Self.sinks {
            // A sink resolves what it took: acknowledge what is still out, so
            // nothing it holds back waits forever.
            for sequence in inFlight[sink, default: []] {
                box.ack(sink, sequence)
                resolve(sink, sequence)
            }
            var delivered = Set<UInt64>()
            // Until the sink has nothing pending: a pause in reading, on a machine busy
            // with other tests, is not the end of the log.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let records = try await box.take(500, from: sink, seconds: 0.3)
                if records.isEmpty && box.status().sinks.first(where: { $0.name == sink })?.pending == 0 { break }
                for record in records {
                    if payloads[record.sequence] != record.payload { problems.append("final: content of \(record.sequence)") }
                    delivered.insert(record.sequence)
                    box.ack(sink, record.sequence)
                }
            }
            let unresolved = Set(payloads.keys).subtracting(resolved[sink, default: []])
            let missing = unresolved.subtracting(delivered)
            if !missing.isEmpty { problems.append("\(sink) never delivered \(missing.sorted())") }
            let onFile = Set(try box.deadLetters(for: sink).map(\.record.sequence))
            if !onFile.isSuperset(of: dead[sink, default: []]) { problems.append("\(sink): dead letters missing") }
        }
        await box.close()
    }
}


