/// The `WorkflowExecution` of a `WorkflowFinish` (or `WorkflowStart`) callback.
public struct WorkflowExecution: Sendable, Hashable {
    /// The whole execution in canonical form; becomes the envelope's `data`.
    public let canonical: CanonicalValue

    public init(canonical: CanonicalValue) {
        self.canonical = canonical
    }

    public var runId: String? { canonical.string(at: "RunId") }
    public var workflowId: String? { canonical.string(at: "WorkflowId") }
    public var workflowName: String? { canonical.string(at: "WorkflowName") }
    public var bucket: String? { canonical.string(at: "BucketId") }
    /// The key of the object that started the run.
    public var object: String? { canonical.string(at: "Object") }
    public var createTime: String? { canonical.string(at: "CreateTime") }
    public var state: String? { canonical.string(at: "State") }

    /// The run's tasks, in the order Tencent listed them.
    public var tasks: [WorkflowTask] {
        (canonical["Tasks"]?.elements ?? []).map(WorkflowTask.init(canonical:))
    }
}

/// One entry of `WorkflowExecution.Tasks`.
public struct WorkflowTask: Sendable, Hashable {
    public let canonical: CanonicalValue

    public init(canonical: CanonicalValue) {
        self.canonical = canonical
    }

    public var type: String? { canonical.string(at: "Type") }
    public var state: String? { canonical.string(at: "State") }
    public var jobId: String? { canonical.string(at: "JobId") }
    public var code: String? { canonical.string(at: "Code") }
    public var message: String? { canonical.string(at: "Message") }
    public var startTime: String? { canonical.string(at: "StartTime") }
    public var endTime: String? { canonical.string(at: "EndTime") }
}
