import CIBridgeConfiguration
import CIBridgeHTTP
import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// An outbox, a quarantine and metrics in a new temporary directory, for one
/// test; ``run(_:_:)`` removes the directory afterwards.
///
/// Each bridge counts in its own `PrometheusCollectorRegistry`
/// (``BridgeMetrics`` takes it, not the process-wide `MetricsSystem`), so tests
/// running in parallel never see each other's counts.
struct TestBridge: Sendable {
    let temporary: TemporaryDirectory
    var directory: String { temporary.path }
    let configuration: BridgeConfiguration
    let outbox: Outbox
    let quarantine: Quarantine
    let registry = PrometheusCollectorRegistry()
    let metrics: BridgeMetrics

    static let token = "s3cret"

    private init(http: BridgeConfiguration.HTTP, outbox outboxConfiguration: OutboxConfiguration, fileSystem: any OutboxFileSystem) throws {
        temporary = try TemporaryDirectory("http")
        let directory = temporary.path
        var configuration = BridgeConfiguration()
        configuration.http = http
        configuration.outbox.directory = directory
        self.configuration = configuration
        outbox = try Outbox(directory: directory, configuration: outboxConfiguration, fileSystem: fileSystem)
        quarantine = try Quarantine(directory: directory + "/rejected")
        metrics = BridgeMetrics(registry: registry)
    }

    /// Runs `test` with a new bridge, then closes its outbox and removes its directory.
    /// The outbox's files go through `fileSystem`.
    static func run<Value: Sendable>(
        http adjust: (inout BridgeConfiguration.HTTP) -> Void = { _ in },
        outbox: OutboxConfiguration = OutboxConfiguration(sinks: ["redis"], minFreeBytes: 0),
        fileSystem: any OutboxFileSystem = PosixFileSystem(),
        _ test: (TestBridge) async throws -> Value
    ) async throws -> Value {
        var http = BridgeConfiguration.HTTP()
        http.token = token
        adjust(&http)
        let bridge = try TestBridge(http: http, outbox: outbox, fileSystem: fileSystem)
        let value: Value
        do {
            value = try await test(bridge)
        } catch {
            try await bridge.remove()
            throw error
        }
        try await bridge.remove()
        return value
    }

    private func remove() async throws {
        await outbox.close()
        temporary.remove()
    }

    /// The application under test.
    func application() -> some ApplicationProtocol {
        buildApplication(configuration: configuration, outbox: outbox, quarantine: quarantine, logger: Logger(label: "test"), metrics: metrics)
    }

    /// The value of `cibridge_callbacks_total` for `result` and `status`, if it was counted.
    func callbacks(_ result: String, _ status: Int) -> Int? {
        metric(#"cibridge_callbacks_total{result="\#(result)",status="\#(status)"}"#)
    }

    /// The value of the sample `name` (with its labels) in the registry, if present.
    func metric(_ name: String) -> Int? {
        let lines = registry.emitToString().split(separator: "\n")
        return lines.first { $0.hasPrefix(name + " ") }.flatMap { Int($0.dropFirst(name.count + 1)) }
    }

    /// Files kept in the quarantine.
    func quarantined() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/rejected").sorted()
    }
}

/// Fixtures of the decoder's tests: what Tencent sends.
enum Fixture {
    static func bytes(_ name: String) throws -> ByteBuffer {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return ByteBuffer(bytes: try Data(contentsOf: tests.appendingPathComponent("CIBridgeCoreTests/Fixtures/" + name)))
    }

    /// A TaskFinish callback with one job.
    static func taskFinish() throws -> ByteBuffer { try bytes("seed/case1-task-api.xml") }
    /// What Tencent's console sends when the callback URL is set.
    static func testPing() throws -> ByteBuffer { try bytes("shapes/test-ping.json") }
}

extension HTTPFields {
    static let xml: HTTPFields = [.contentType: "application/xml"]
    static let json: HTTPFields = [.contentType: "application/json"]
}

/// The members of a JSON answer.
func members(_ body: ByteBuffer) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
}
