/// A decoded callback: what Tencent Cloud Infinite reported, in canonical form.
public enum CallbackBody: Sendable, Hashable {
    /// A `TaskFinish` event (or a body of that shape without `EventName`): one or more jobs.
    /// `eventName` is what the body said, `nil` for older bodies without it.
    case jobs(eventName: String?, [JobDetail])
    /// A `WorkflowFinish` or `WorkflowStart` run summary (or that shape without `EventName`).
    case workflow(eventName: String?, [WorkflowExecution])
    /// Content-moderation results: one per `JobsDetail` of a Detail callback,
    /// or the one result of a Simple callback.
    case moderation([ModerationResult])
    /// Any other event with an `EventName` (names Tencent adds later):
    /// passed through whole.
    case other(eventName: String, body: CanonicalValue)
    /// Tencent's test request when a callback URL is set up (any kind, either
    /// content version, with or without an event name). Nothing to publish.
    case testPing(message: String)
}
