import Hummingbird

/// Counts each callback request by its outcome, with its body bytes, stored
/// events and handling time, from what the route leaves in the context
/// (``BridgeRequestContext/callback``): nothing about it travels in the answer.
///
/// A request whose route throws (the client went away mid-body) is not counted
/// here; one answered 408 by ``RequestDeadline`` is counted there.
struct CallbackMetricsMiddleware: RouterMiddleware {
    typealias Context = BridgeRequestContext

    let metrics: BridgeMetrics

    func handle(
        _ request: Request, context: BridgeRequestContext, next: (Request, BridgeRequestContext) async throws -> Response
    ) async throws -> Response {
        let record = CallbackRecord()
        var context = context
        context.callback = record
        let started = ContinuousClock.now
        let response = try await next(request, context)
        if let outcome = record.outcome {
            metrics.record(outcome, bodyBytes: record.bodyBytes, duration: ContinuousClock.now - started)
        }
        return response
    }
}
