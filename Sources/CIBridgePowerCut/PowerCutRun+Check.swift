import CIBridgeOutbox

extension PowerCutRun {
    /// Checks the recovered outbox in `directory` against the ledger.
    func check(
        _ directory: String, ledger: RunLedger, into report: inout PowerCutReport, after cut: Int, recovery: RecoveryReport,
        cut cutReport: CutReport?
    ) {
        let before = report.failures
        let truth = ledger.snapshot()
        func finding(_ line: String) {
            if report.findings.count < 6 { report.findings.append("seed \(seed), after cut \(cut): \(line)") }
        }
        let inspector: OutboxInspector
        let records: [OutboxRecord]
        do {
            inspector = try OutboxInspector(directory: directory)
            records = try inspector.records()
        } catch {
            report.recoveryFailures += 1
            finding("the recovered outbox cannot be read: \(error)")
            return
        }
        var present: [UInt64: OutboxRecord] = [:]
        var previous: UInt64 = 0
        for record in records {
            if record.sequence <= previous {
                report.outOfOrder += 1
                finding("record \(record.sequence) after \(previous)")
            }
            previous = record.sequence
            present[record.sequence] = record
            let expected = truth.acknowledged[record.sequence]
            if !truth.attempted.contains(record.payload) || (expected?.payload.map { $0 != record.payload } ?? false) {
                report.phantoms += 1
                finding("record \(record.sequence) holds bytes no append of that sequence had")
            }
        }
        let status = inspector.status()
        for sink in Self.sinks {
            guard let watermark = status.sinks.first(where: { $0.name == sink })?.watermark else {
                report.recoveryFailures += 1
                finding("sink \(sink) has no cursor")
                continue
            }
            let deadLetters = Set(((try? inspector.deadLetters(sink: sink)) ?? []).map(\.record.sequence))
            let oldestKept = records.first?.sequence ?? .max
            for (sequence, appended) in truth.acknowledged where appended.routing.isEmpty || appended.routing.contains(sink) {
                let delivered = truth.hasDelivered(sequence, to: sink)
                if sequence > watermark {
                    // Absent is fine only before the oldest record kept, for a record this
                    // sink had: deleted once every sink had it, and a rewind (from before
                    // it was deleted) moved the cursor back.
                    if present[sequence] == nil && (sequence > oldestKept || (!delivered && !deadLetters.contains(sequence))) {
                        report.lost += 1
                        finding("acknowledged record \(sequence) is gone; \(sink)'s cursor is at \(watermark)")
                    }
                } else if !delivered && !deadLetters.contains(sequence) {
                    report.cursorsAhead += 1
                    let rewind = truth.rewinds[sink]?.last { $0.from <= sequence }
                    finding(
                        "\(sink)'s cursor is at \(watermark), past record \(sequence), which it neither delivered nor dead-lettered"
                            + " (last delivered at tick \(truth.delivered[sink]?[sequence].map(String.init) ?? "never"), rewound from \(rewind.map { "\($0.from) at tick \($0.tick)" } ?? "-"))")
                }
            }
            for sequence in truth.deadLettered[sink] ?? [] where !deadLetters.contains(sequence) {
                report.deadLettersLost += 1
                finding("dead letter \(sequence) of \(sink) is gone")
            }
        }
        if report.failures > before {
            // What a finding needs to be understood: the log's shape, the cut, the repairs.
            report.findings.append(
                "seed \(seed), after cut \(cut): log holds \(records.count) records, \(records.first?.sequence ?? 0)...\(records.last?.sequence ?? 0); "
                    + "cut \(cutReport?.summary ?? "-") before \(cutReport?.landedBefore ?? "-"); recovery: \(recovery.notes)")
        }
    }
}
