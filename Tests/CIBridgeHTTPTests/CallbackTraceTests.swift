@testable import CIBridgeHTTP
import CIBridgeOutbox
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import W3CTraceContext

/// W3C trace context at the edge: continued when the request carries one,
/// started otherwise, stored with the records and never in the envelope.
@Suite("Trace context of a callback")
struct CallbackTraceTests {
    static let path = "/callbacks/\(TestBridge.token)"
    static let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    /// Posts the task-finish fixture with `headers` and returns the stored record.
    func post(_ headers: HTTPFields) async throws -> OutboxRecord {
        try await TestBridge.run { bridge in
            try await bridge.application().test(.router) { client in
                var all = HTTPFields.xml
                all.append(contentsOf: headers)
                try await client.execute(uri: Self.path, method: .post, headers: all, body: try Fixture.taskFinish()) { response in
                    #expect(response.status == .ok)
                }
            }
            let records = try OutboxInspector(directory: bridge.directory).records()
            #expect(records.count == 1)
            return try #require(records.first)
        }
    }

    func parts(_ traceparent: String?) -> [Substring] { traceparent?.split(separator: "-") ?? [] }

    @Test("A traceparent is continued: same trace and flags, cibridge's own span id, tracestate kept")
    func continued() async throws {
        let record = try await post([HTTPField.Name("traceparent")!: Self.parent, HTTPField.Name("tracestate")!: "lb=7f, vendor=x"])
        let traceparent = record.attributes[RecordTrace.traceparentAttribute]
        let stored = parts(traceparent)
        #expect(stored.count == 4, "\(traceparent ?? "none")")
        #expect(stored.first == "00")
        #expect(stored.dropFirst().first == "0af7651916cd43dd8448eb211c80319c")
        #expect(stored.dropFirst(2).first != "b7ad6b7169203331")
        #expect(stored.dropFirst(2).first?.count == 16)
        #expect(stored.last == "01")
        #expect(record.attributes[RecordTrace.tracestateAttribute] == "lb=7f, vendor=x")
    }

    @Test("Without a traceparent, or with an invalid one, a new trace starts (not sampled) and the callback is accepted", arguments: [
        nil, "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
    ])
    func started(header: String?) async throws {
        let headers: HTTPFields = header.map { [HTTPField.Name("traceparent")!: $0] } ?? [:]
        let record = try await post(headers)
        let stored = parts(record.attributes[RecordTrace.traceparentAttribute])
        #expect(stored.count == 4)
        #expect(stored.dropFirst().first?.count == 32)
        #expect(stored.dropFirst().first != "0af7651916cd43dd8448eb211c80319c")
        #expect(stored.last == "00")
        #expect(record.attributes[RecordTrace.tracestateAttribute] == nil)
    }

    @Test("A tracestate longer than 512 bytes is dropped, the trace still continued")
    func longTraceState() async throws {
        let long = (0..<40).map { "v\($0)=\(String(repeating: "x", count: 12))" }.joined(separator: ",")
        #expect(long.utf8.count > 512)
        let record = try await post([HTTPField.Name("traceparent")!: Self.parent, HTTPField.Name("tracestate")!: long])
        #expect(record.attributes[RecordTrace.traceparentAttribute]?.contains("0af7651916cd43dd8448eb211c80319c") == true)
        #expect(record.attributes[RecordTrace.tracestateAttribute] == nil)
    }

    @Test("An invalid tracestate is dropped; the valid traceparent is still continued")
    func invalidTraceState() async throws {
        let record = try await post([HTTPField.Name("traceparent")!: Self.parent, HTTPField.Name("tracestate")!: "=,;not a state"])
        #expect(record.attributes[RecordTrace.traceparentAttribute]?.contains("0af7651916cd43dd8448eb211c80319c") == true)
        #expect(record.attributes[RecordTrace.tracestateAttribute] == nil)
    }

    @Test("The envelope is byte-identical with and without trace context; the trace is not among its attributes")
    func envelopeUnchanged() async throws {
        let traced = try await post([HTTPField.Name("traceparent")!: Self.parent, HTTPField.Name("tracestate")!: "lb=7f"])
        let plain = try await post([:])
        #expect(traced.payload == plain.payload)
        #expect(!String(decoding: traced.payload, as: UTF8.self).contains("0af7651916cd43dd8448eb211c80319c"))
        #expect(!String(decoding: traced.payload, as: UTF8.self).contains("traceparent"))
    }

    @Test("traceparent is written as W3CTraceContext writes it: new traces, continued ones, sampled or not")
    func traceparentText() throws {
        for header in [Self.parent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "00-ffffffffffffffffffffffffffffff0f-00000000000000a1-01"] {
            let trace = CallbackTrace(headers: [.init("traceparent")!: header])
            #expect(trace.traceparent == trace.context.traceParentHeaderValue)
            #expect(trace.traceparent.hasPrefix(String(header.prefix(36))))
            #expect(trace.traceparent.hasSuffix(String(header.suffix(3))))
            #expect(trace.traceparent.utf8.count == 55)
        }
        let started = (0..<64).map { _ in CallbackTrace(headers: [:]) }
        for trace in started { #expect(trace.traceparent == trace.context.traceParentHeaderValue) }
        // Random ids: 64 new traces, 64 different trace ids and span ids.
        #expect(Set(started.map { $0.context.traceID.description }).count == 64)
        #expect(Set(started.map { $0.context.spanID.description }).count == 64)
    }
}
