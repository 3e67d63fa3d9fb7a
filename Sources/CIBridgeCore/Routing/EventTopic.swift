/// The topics consumers subscribe to, one per kind of event: the same four in
/// Kafka (`ci.task-finish`, …) and in Redis (`ci:task-finish:<shard>`, …).
public enum EventTopic: String, Sendable, Hashable, CaseIterable {
    case taskFinish = "task-finish"
    case workflowFinish = "workflow-finish"
    case moderation
    /// Everything else: `WorkflowStart`, event names Tencent adds later.
    case events

    /// The topic of an envelope of CloudEvents `type`.
    public init(type: String?) {
        switch type {
        case EventType.taskFinish?: self = .taskFinish
        case EventType.workflowFinish?: self = .workflowFinish
        case let type? where type.hasPrefix(EventType.moderationUnspecified): self = .moderation
        default: self = .events
        }
    }

    /// The topic's name, e.g. `task-finish`: what `cibridge consume redis --topic` takes.
    public var name: String { rawValue }
}
