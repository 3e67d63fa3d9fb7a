import Synchronization

/// What one callback request came to, as the route leaves it for
/// ``CallbackMetricsMiddleware`` in ``BridgeRequestContext/callback``.
///
/// A class because the context is a value: what the route writes into its
/// copy would never reach the middleware. Made by the middleware, written by
/// the route and read by the middleware after the route returned, all in the
/// request's own task, one after the other: the lock is never contended, and
/// it is there so the compiler can check that (no `@unchecked Sendable`).
final class CallbackRecord: Sendable {
    private let state = Mutex<(outcome: CallbackOutcome?, bodyBytes: Int)>((nil, 0))

    /// The answer; `nil` when the route threw instead of answering.
    var outcome: CallbackOutcome? {
        get { state.withLock { $0.outcome } }
        set { state.withLock { $0.outcome = newValue } }
    }

    /// Body bytes received (0 when refused before reading the body).
    var bodyBytes: Int {
        get { state.withLock { $0.bodyBytes } }
        set { state.withLock { $0.bodyBytes = newValue } }
    }
}
