import CIBridgeCore
import CIBridgeOutbox
import CIBridgeSinks
import Foundation

/// The repository's test fixtures, found from this file.
public enum TestFixtures {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CIBridgeCoreTests/Fixtures")

    /// Envelopes of the seed's case 2 with distinct workflow and job IDs, job by job:
    /// every workflow's first job, then every workflow's second, …
    public static func workflowEnvelopes(workflows: Int, jobsEach: Int, workflowPrefix: String = "wf-") throws -> [Envelope] {
        let template = try String(contentsOf: directory.appendingPathComponent("seed/case2-workflow.xml"), encoding: .utf8)
        var result: [Envelope] = []
        for job in 0..<jobsEach {
            for workflow in 0..<workflows {
                let body = template
                    .replacingOccurrences(of: "web6ac56c1ef54dbfa44d7f4103203be9", with: "\(workflowPrefix)\(workflow)")
                    .replacingOccurrences(of: "j6842765cf84611ecb8546d80f2baf56f", with: "job-\(workflow)-\(job)")
                result += EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode(Array(body.utf8)))
            }
        }
        return result
    }
}

extension Outbox {
    /// Appends `envelopes` as `cibridge serve` does (``OutboxEntry/init(envelope:)``).
    @discardableResult
    public func append(envelopes: [Envelope]) async throws -> [UInt64] {
        try await append(envelopes.map(OutboxEntry.init(envelope:)))
    }

    /// Waits until `sink` has nothing pending, or `seconds` pass; returns whether it drained.
    public func waitUntilDrained(_ sink: String, seconds: Double = 20) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if status().sinks.first(where: { $0.name == sink })?.pending == 0 { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
