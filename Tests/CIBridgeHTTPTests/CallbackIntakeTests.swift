import CIBridgeConfiguration
@testable import CIBridgeHTTP
import CIBridgeOutbox
import Foundation
import Logging
import Testing

/// What the intake does with an admitted body, without a server.
@Suite("Callback intake")
struct CallbackIntakeTests {
    func intake(_ bridge: TestBridge) -> CallbackIntake {
        CallbackIntake(http: bridge.configuration.http, outbox: bridge.outbox, quarantine: bridge.quarantine, logger: Logger(label: "test"), metrics: bridge.metrics)
    }

    @Test("A refused body is kept with its reason; a test ping is answered without storing")
    func outcomes() async throws {
        try await TestBridge.run { bridge in
            let intake = intake(bridge)
            let bad = await intake.accept(body: Array("<Response><A></Response>".utf8), contentType: "application/xml", headers: [("User-Agent", "x")], client: "1.2.3.4")
            #expect(bad.status == .badRequest)
            #expect(bad.code == "malformed_xml")
            let kept = try bridge.quarantined()
            #expect(kept.count == 2)
            // Rejected bodies are private to the service's user and group.
            for name in kept {
                let mode = try FileManager.default.attributesOfItem(atPath: bridge.directory + "/rejected/" + name)[.posixPermissions] as? Int
                #expect(mode == 0o640, "\(name): mode \(String(mode ?? 0, radix: 8))")
            }
            let folder = try FileManager.default.attributesOfItem(atPath: bridge.directory + "/rejected")[.posixPermissions] as? Int
            #expect(folder == 0o750)
            let ping = await intake.accept(body: Array(#"{"code":0,"message":"Test request when setting callback url"}"#.utf8), contentType: nil, headers: [], client: nil)
            #expect(ping == .testPing)
            #expect(ping.status == .ok)
            #expect(bridge.metric("cibridge_quarantine_errors_total") == 0)
        }
    }

    @Test("A body the quarantine cannot write is still refused 400; the failure has a stable code and is counted")
    func quarantineFailure() async throws {
        try await TestBridge.run { bridge in
            // The quarantine's directory is gone: creating the files fails.
            try FileManager.default.removeItem(atPath: bridge.directory + "/rejected")
            await #expect {
                try await bridge.quarantine.keep(body: [1, 2, 3], headers: [], reason: "test", remote: nil)
            } throws: { error in
                guard let error = error as? QuarantineError else { return false }
                return error.code == .writeFailed && error.message.contains("/rejected/")
            }
            let outcome = await intake(bridge).accept(body: Array("<Response><A></Response>".utf8), contentType: "application/xml", headers: [], client: nil)
            #expect(outcome.code == "malformed_xml")
            #expect(outcome.status == .badRequest)
            #expect(bridge.metric("cibridge_quarantine_errors_total") == 1)
        }
    }

    @Test("An accepted answer's body, written directly, is the bytes its fields give")
    func acceptedBody() {
        let ids = ["8f3e0bd9a1c5e2f4", #"with "quotes" and \ and é"#, "3"]
        for count in 0...3 {
            let outcome = CallbackOutcome.accepted(ids: Array(ids.prefix(count)))
            #expect(outcome.body == ResponseJSON.body(outcome.fields), "\(count) ids")
        }
    }
}
