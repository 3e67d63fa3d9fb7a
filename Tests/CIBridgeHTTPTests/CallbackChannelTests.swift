import CIBridgeConfiguration
import CIBridgeTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import CIBridgeHTTP

/// What only ``CallbackChannelHandler`` does, on a live server: the callback
/// route matched as the router matches it, HTTP/1's answer order kept when
/// requests are pipelined, and the connection's keep-alive rules. The answers
/// themselves are in ``CallbackEdgeTests``, for both paths.
@Suite("Callbacks answered in the channel")
struct CallbackChannelTests {
    static let path = CallbackEdgeTests.path

    /// A POST of `body` as HTTP/1.1 text.
    static func post(_ body: String, to uri: String = path, contentType: String = "application/json", close: Bool = false) -> String {
        "POST \(uri) HTTP/1.1\r\nHost: localhost\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n" + body
    }

    @Test("The channel takes the paths the router's callback route takes, and only those")
    func routes() async throws {
        let paths = [
            "/callbacks", "/callbacks/", "//callbacks", "/callbacks/\(TestBridge.token)", "/callbacks/\(TestBridge.token)/",
            "/callbacks/\(TestBridge.token)?token=x", "/callbacks/a/b", "/callbacksx", "/Callbacks/\(TestBridge.token)", "/callback",
        ]
        var statuses: [CallbackEdgeTests.EdgePath: [HTTPResponse.Status]] = [:]
        for edge in CallbackEdgeTests.EdgePath.allCases {
            statuses[edge] = try await TestBridge.run { bridge in
                try await bridge.application().test(edge.setup) { client in
                    var answered: [HTTPResponse.Status] = []
                    for path in paths {
                        let response = try await client.execute(uri: path, method: .post, headers: .json, body: try Fixture.testPing())
                        answered.append(response.status)
                    }
                    // Other methods on the route are the router's.
                    answered.append(try await client.execute(uri: Self.path, method: .get).status)
                    return answered
                }
            }
        }
        #expect(statuses[.router] == statuses[.channel], "\(paths)")
        // Both kinds are among them: answered (200, 401) and not found.
        #expect(statuses[.channel]?.contains(.ok) == true)
        #expect(statuses[.channel]?.contains(.unauthorized) == true)
        #expect(statuses[.channel]?.contains(.notFound) == true)
    }

    @Test("Pipelined requests are answered in their order, whichever side answers each")
    func pipelined() async throws {
        try await TestBridge.run { bridge in
            try await bridge.application().test(.live) { client in
                let port = try #require(client.port)
                let requests =
                    Self.post(String(buffer: try Fixture.taskFinish()), contentType: "application/xml")
                    + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + Self.post(String(buffer: try Fixture.testPing()))
                    + "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                let answer = try await RawHTTPClient.exchange(port: port, writes: [(.zero, requests)], patience: .seconds(10))
                #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 5, "\(answer)")
                let order = [#""status":"accepted""#, #""status":"ok""#, #""status":"test_ping""#, #""status":"ready""#].map {
                    answer.range(of: $0)?.lowerBound
                }
                #expect(!order.contains(nil), "\(answer)")
                #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(answer)")
            }
            #expect(bridge.outbox.status().records == 1)
            #expect(bridge.callbacks("accepted", 200) == 1)
            #expect(bridge.callbacks("test_ping", 200) == 1)
        }
    }

    @Test("A connection that keeps sending callbacks for longer than the idle timeout stays open; Connection: close closes it after the answer")
    func keepAlive() async throws {
        try await TestBridge.run(http: { $0.readTimeoutMilliseconds = 500 }) { bridge in
            try await bridge.application().test(.live) { client in
                let port = try #require(client.port)
                let ping = String(buffer: try Fixture.testPing())
                // 8 × 150 ms on one connection: well past the 500 ms idle timeout, never idle for it.
                let writes = (1...8).map { (pause: Duration.milliseconds(150), text: Self.post(ping, close: $0 == 8)) }
                let started = ContinuousClock.now
                let answer = try await RawHTTPClient.exchange(port: port, writes: writes, patience: .seconds(15))
                #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 9, "\(answer)")
                // Closed by the server after the last answer, not when the client gave up.
                #expect(ContinuousClock.now - started < .seconds(10))
            }
            #expect(bridge.callbacks("test_ping", 200) == 8)
        }
    }

    @Test("The channel's answers carry Date and Server as Hummingbird's do; the date in RFC 9110's form")
    func dateAndServer() async throws {
        #expect(HTTPDate.text(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.text(secondsSince1970: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.text(secondsSince1970: 1_796_217_300) == "Wed, 02 Dec 2026 13:15:00 GMT")
        try await TestBridge.run { bridge in
            try await bridge.application().test(.live) { client in
                let callback = try await client.execute(uri: Self.path, method: .post, headers: .json, body: try Fixture.testPing())
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(callback.headers[.server] == "cibridge")
                #expect(callback.headers[.server] == health.headers[.server])
                let date = try #require(callback.headers[.date])
                #expect(date.hasSuffix(" GMT") && date.count == 29, "\(date)")
                #expect(health.headers[.date]?.count == 29)
            }
        }
    }

    @Test("A graceful stop waits for the answer of a callback that is still being appended, then closes its connection")
    func gracefulStop() async throws {
        let gate = GatedSyncFileSystem()
        try await TestBridge.run(fileSystem: gate) { bridge in
            gate.hold()
            // Released whatever happens, or the outbox could not close.
            defer { gate.release() }
            let pending = try await bridge.application().test(.live) { client in
                let port = try #require(client.port)
                let request = Self.post(String(buffer: try Fixture.taskFinish()), contentType: "application/xml")
                let pending = Task { try await RawHTTPClient.exchange(port: port, writes: [(.zero, request)], patience: .seconds(20)) }
                // Once the callback's batch is taken and waits in its sync, the
                // test's end stops the server, gracefully; the sync goes on half
                // a second later.
                let patience = ContinuousClock.now + .seconds(10)
                while bridge.outbox.commitCounts.appends == 0 && ContinuousClock.now < patience {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(bridge.outbox.commitCounts.appends == 1)
                #expect(bridge.outbox.status().records == 0)
                Task {
                    try await Task.sleep(for: .milliseconds(500))
                    gate.release()
                }
                return pending
            }
            let answer = try await pending.value
            #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
            #expect(answer.contains(#""status":"accepted""#), "\(answer)")
            #expect(bridge.outbox.status().records == 1)
        }
    }
}
