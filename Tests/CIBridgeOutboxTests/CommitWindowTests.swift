import CIBridgeOutbox
import CIBridgeTestSupport
import Testing

/// The group-commit hold, driven directly (no disk, no clock), then through an outbox.
@Suite("Commit window")
struct CommitWindowTests {
    let window = CommitWindow(microseconds: 1000, fullBatch: 64)

    @Test("While appends trickle in, the next commit starts a window after the last one ended")
    func holds() {
        #expect(window.delay(now: 10_000, lastCommitEnd: 10_000, peak: 8, waiting: 3) == 1000)
        #expect(window.delay(now: 10_300, lastCommitEnd: 10_000, peak: 8, waiting: 3) == 700)
        #expect(window.delay(now: 10_999, lastCommitEnd: 10_000, peak: 8, waiting: 5) == 1)
        #expect(window.delay(now: 11_000, lastCommitEnd: 10_000, peak: 8, waiting: 3) == 0)
        #expect(window.delay(now: 50_000, lastCommitEnd: 10_000, peak: 8, waiting: 3) == 0)
    }

    @Test("No hold once three quarters of the recent crowd wait, nor for a lone caller, a full batch, an empty queue, a first commit or a zero window")
    func noHold() {
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 8, waiting: 6) == 0)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 8, waiting: 9) == 0)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 1, waiting: 1) == 0)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 0, waiting: 1) == 0)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 2, waiting: 1) == 900)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 500, waiting: 64) == 0)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 500, waiting: 63) == 900)
        #expect(window.delay(now: 10_100, lastCommitEnd: 10_000, peak: 8, waiting: 0) == 0)
        #expect(window.delay(now: 10_100, lastCommitEnd: nil, peak: 8, waiting: 3) == 0)
        #expect(CommitWindow(microseconds: 0).delay(now: 10_100, lastCommitEnd: 10_000, peak: 8, waiting: 3) == 0)
    }

    @Test("The release count: three quarters of the peak, rounded up, at least one, at most a full batch")
    func releaseCount() {
        #expect(window.releaseCount(peak: 0) == 1)
        #expect(window.releaseCount(peak: 1) == 1)
        #expect(window.releaseCount(peak: 2) == 2)
        #expect(window.releaseCount(peak: 8) == 6)
        #expect(window.releaseCount(peak: 13) == 10)
        #expect(window.releaseCount(peak: 1000) == 64)
    }

    @Test("The peak: a larger batch raises it at once; a crowd that shrinks from 64 to 8 lowers it within 12 commits, one small batch by an eighth")
    func peak() {
        #expect(CommitWindow.peak(after: 0, batch: 1) == 1)
        #expect(CommitWindow.peak(after: 1, batch: 1) == 1)
        #expect(CommitWindow.peak(after: 8, batch: 40) == 40)
        #expect(CommitWindow.peak(after: 64, batch: 1) == 56)
        var peak = 64
        var commits = 0
        while CommitWindow(microseconds: 1000).releaseCount(peak: peak) > 8 {
            peak = CommitWindow.peak(after: peak, batch: 8)
            commits += 1
        }
        #expect(commits == 12)
    }

    @Test("A clock that seems to run back holds for the window, never longer; a negative window is none")
    func clockBack() {
        #expect(window.delay(now: 9_000, lastCommitEnd: 10_000, peak: 8, waiting: 3) == 1000)
        #expect(CommitWindow(microseconds: -5).microseconds == 0)
    }

    @Test("Through an outbox with a wide window: a lone caller commits alone; writers that append again at once share commits, and their holds end when they are back; every append is durable and in order")
    func outbox() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let configuration = OutboxConfiguration(sinks: ["s"], commitWindow: CommitWindow(microseconds: 100_000), minFreeBytes: 0)
        let outbox = try Outbox(directory: dir.path, configuration: configuration)
        for n in 1...5 { _ = try await outbox.append([entry(n)]) }
        #expect(outbox.commitCounts == CommitCounts(commits: 5, appends: 5))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for n in 0..<25 { _ = try await outbox.append([entry(writer * 100 + n, key: "w\(writer)")]) }
                }
            }
            try await group.waitForAll()
        }
        let counts = outbox.commitCounts
        #expect(counts.appends == 5 + 200)
        #expect(counts.commits < counts.appends)
        // Held commits mostly end by the writers' return, not by the 100 ms window
        // (only when writers finish at different times, at the end, does it run out).
        #expect(counts.releases > 0 && counts.holds >= counts.releases, "\(counts)")
        await outbox.close()
        let reopened = try Outbox(directory: dir.path, configuration: configuration)
        let records = try await reopened.take(205, from: "s")
        #expect(records.map(\.sequence) == Array(1...205))
        await reopened.close()
    }
}
