/// CloudEvents `type` values cibridge emits.
public enum EventType {
    /// A job finished (`EventName` `TaskFinish`); one event per `JobsDetail`.
    public static let taskFinish = "com.tencentcloud.ci.task.finish"
    /// A workflow run finished (`EventName` `WorkflowFinish`).
    public static let workflowFinish = "com.tencentcloud.ci.workflow.finish"
    /// A workflow run started (`EventName` `WorkflowStart`).
    public static let workflowStart = "com.tencentcloud.ci.workflow.start"
    /// Any other `EventName`; the name itself is in the `eventname` attribute.
    public static let other = "com.tencentcloud.ci.event"
    /// What every moderation result's type starts with; the kind follows
    /// (`com.tencentcloud.ci.moderation.image`, see ``ModerationKind``).
    public static let moderationPrefix = "com.tencentcloud.ci.moderation."

    /// A moderation result whose body does not say what was moderated (a
    /// Simple body without `data.event`).
    public static let moderationUnspecified = "com.tencentcloud.ci.moderation"

    /// Every moderation result type: one per ``ModerationKind``, and ``moderationUnspecified``.
    public static let moderation: [String] = ModerationKind.allCases.map(\.eventType) + [moderationUnspecified]
}
