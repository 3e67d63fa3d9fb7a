/// What one callback request came to, as the route leaves it for
/// ``CallbackMetricsMiddleware`` in ``BridgeRequestContext/callback``.
///
/// Confinement, instead of a lock: made by the middleware, written by the route
/// and read by the middleware after the route returned, all in the request's
/// own task, one after the other. Nothing else holds it.
final class CallbackRecord: @unchecked Sendable {
    /// The answer; `nil` when the route threw instead of answering.
    var outcome: CallbackOutcome?
    /// Body bytes received (0 when refused before reading the body).
    var bodyBytes = 0
}
