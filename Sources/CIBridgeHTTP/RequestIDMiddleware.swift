import HTTPTypes
import Hummingbird

/// Gives each callback request an id: the client's `X-Request-Id` (cut at 64
/// characters) or a new one. It is in the context, for the log lines about the
/// callback, and in the answer's `X-Request-Id`.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = BridgeRequestContext

    /// Made once: a field name is validated when made.
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(
        _ request: Request, context: BridgeRequestContext, next: (Request, BridgeRequestContext) async throws -> Response
    ) async throws -> Response {
        let id = Self.id(for: request.headers)
        var context = context
        context.requestID = id
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }

    /// The id of a request with `headers`: the client's, cut at 64 characters, or a new one.
    static func id(for headers: HTTPFields) -> String {
        headers.value(of: header).map { String($0.prefix(64)) } ?? RequestID.next()
    }
}
