/// Turns a ``CallbackBody`` into the envelopes cibridge publishes:
/// one per `JobsDetail` entry, one per `WorkflowExecution`, one per moderation
/// result, one for any other event.
public struct EnvelopeBuilder: Sendable {
    public init() {}

    /// The envelopes for `body`; empty for a test ping.
    public func envelopes(for body: CallbackBody) -> [Envelope] {
        switch body {
        case .jobs(let eventName, let jobs):
            let type = eventName == nil || eventName == "TaskFinish" ? EventType.taskFinish : EventType.other
            return jobs.map { envelope(for: $0, type: type, eventName: eventName ?? "TaskFinish") }
        case .workflow(let eventName, let executions):
            let type: String
            switch eventName {
            case nil, "WorkflowFinish": type = EventType.workflowFinish
            case "WorkflowStart": type = EventType.workflowStart
            default: type = EventType.other
            }
            return executions.map { envelope(for: $0, type: type, eventName: eventName ?? "WorkflowFinish") }
        case .moderation(let results):
            return results.map(envelope(for:))
        case .other(let eventName, let body):
            let workflowId = body.string(at: "WorkflowId")
            let queueId = body.string(at: "QueueId")
            let jobId = body.string(at: "JobId")
            return [
                Envelope(
                    source: Self.source(bucket: body.string(at: "BucketId")),
                    type: EventType.other,
                    subject: body.string(at: "Object"),
                    time: nil,
                    partitionKey: workflowId ?? queueId ?? jobId,
                    extensions: [
                        ("eventname", eventName), ("workflowid", workflowId), ("queueid", queueId), ("jobid", jobId),
                    ],
                    data: body)
            ]
        case .testPing:
            return []
        }
    }

    private func envelope(for job: JobDetail, type: String, eventName: String) -> Envelope {
        let time = CallbackTime(job.endTime) ?? CallbackTime(job.startTime) ?? CallbackTime(job.creationTime)
        let workflowId = job.workflowId
        return Envelope(
            source: Self.source(bucket: job.bucket),
            type: type,
            subject: job.object,
            time: time?.rfc3339,
            partitionKey: workflowId ?? job.queueId ?? job.jobId,
            extensions: [
                ("eventname", eventName), ("jobid", job.jobId), ("queueid", job.queueId), ("tag", job.tag),
                ("state", job.state), ("code", job.code), ("bucket", job.bucket), ("region", job.region),
                ("workflowid", workflowId), ("runid", job.runId),
            ],
            data: job.canonical)
    }

    private func envelope(for execution: WorkflowExecution, type: String, eventName: String) -> Envelope {
        // A run's time is when its last task ended; failing that, when it was created.
        let taskEnds = execution.tasks.compactMap { CallbackTime($0.endTime) }
        let time = taskEnds.max() ?? CallbackTime(execution.createTime)
        return Envelope(
            source: Self.source(bucket: execution.bucket),
            type: type,
            subject: execution.object,
            time: time?.rfc3339,
            partitionKey: execution.workflowId ?? execution.runId,
            extensions: [
                ("eventname", eventName), ("workflowid", execution.workflowId), ("runid", execution.runId),
                ("state", execution.state), ("bucket", execution.bucket),
            ],
            data: execution.canonical)
    }

    private func envelope(for result: ModerationResult) -> Envelope {
        let jobId = result.jobId
        let traceId = result.traceId
        return Envelope(
            source: Self.source(bucket: result.bucket),
            type: result.eventType,
            subject: result.subject,
            time: CallbackTime(result.creationTime)?.rfc3339,
            // One job's results together: live streams send many.
            partitionKey: jobId ?? traceId,
            extensions: [
                ("eventname", result.eventName), ("jobid", jobId), ("traceid", traceId), ("state", result.state),
                ("code", result.code), ("bucket", result.bucket), ("region", result.region),
                ("verdict", result.verdict?.rawValue), ("label", result.label),
                ("contentversion", result.version.rawValue), ("interim", result.isInterim ? "true" : "false"),
                ("dataid", result.dataId),
            ],
            data: result.canonical)
    }

    /// `/tencent-ci/buckets/<bucket>`, or `/tencent-ci` when the body names no bucket.
    static func source(bucket: String?) -> String {
        guard let bucket, !bucket.isEmpty else { return "/tencent-ci" }
        return "/tencent-ci/buckets/" + percentEncoded(bucket)
    }

    /// Percent-encodes everything outside RFC 3986's unreserved set.
    private static func percentEncoded(_ text: String) -> String {
        var output: [UInt8] = []
        let hexDigits = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.append(byte)
            default:
                output.append(contentsOf: [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
