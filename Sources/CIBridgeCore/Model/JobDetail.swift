/// One `JobsDetail` entry of a `TaskFinish` callback.
///
/// A typed view over the canonical value: the fields cibridge routes on are
/// properties; everything else, including `Operation` for any `Tag`, known or
/// not, stays in ``canonical``.
public struct JobDetail: Sendable, Hashable {
    /// The whole entry in canonical form; becomes the envelope's `data`.
    public let canonical: CanonicalValue

    public init(canonical: CanonicalValue) {
        self.canonical = canonical
    }

    public var jobId: String? { canonical.string(at: "JobId") }
    public var tag: String? { canonical.string(at: "Tag") }
    public var state: String? { canonical.string(at: "State") }
    public var code: String? { canonical.string(at: "Code") }
    public var message: String? { canonical.string(at: "Message") }
    public var queueId: String? { canonical.string(at: "QueueId") }
    public var creationTime: String? { canonical.string(at: "CreationTime") }
    public var startTime: String? { canonical.string(at: "StartTime") }
    public var endTime: String? { canonical.string(at: "EndTime") }
    /// `Input.BucketId`; some jobs have no input bucket.
    public var bucket: String? { canonical.string(at: "Input", "BucketId") }
    /// `Input.Region`.
    public var region: String? { canonical.string(at: "Input", "Region") }
    /// `Input.Object`: the key of the object the job processed (`Object` for
    /// content-moderation jobs, which have no `Input`).
    public var object: String? { canonical.string(at: "Input", "Object") ?? canonical.string(at: "Object") }
    /// `Workflow.WorkflowId`, when a workflow started the job.
    public var workflowId: String? { canonical.string(at: "Workflow", "WorkflowId") }
    /// `Workflow.RunId`: the workflow instance.
    public var runId: String? { canonical.string(at: "Workflow", "RunId") }
    /// `Workflow.WorkflowName`.
    public var workflowName: String? { canonical.string(at: "Workflow", "WorkflowName") }
}
