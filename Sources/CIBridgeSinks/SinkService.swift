import ServiceLifecycle

/// A sink as a swift-service-lifecycle service: graceful shutdown cancels its
/// publishing loop, after which it finishes in-flight work and returns.
public struct SinkService: Service {
    public let sink: any Sink

    public init(_ sink: any Sink) {
        self.sink = sink
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await sink.run() }
    }
}
