import CIBridgeConfiguration
import CIBridgeHTTP
import CIBridgeOutbox
import Foundation
import Logging
import Testing

/// Who may send: the allowlist, trusted proxies and the token, without a server.
@Suite("Callback intake")
struct CallbackIntakeTests {
    func intake(_ adjust: (inout BridgeConfiguration.HTTP) -> Void) throws -> (CallbackIntake, String) {
        let directory = NSTemporaryDirectory() + "cibridge-intake-" + UUID().uuidString
        let outbox = try Outbox(directory: directory, configuration: OutboxConfiguration(sinks: ["redis"], minFreeBytes: 0))
        var http = BridgeConfiguration.HTTP()
        adjust(&http)
        let quarantine = try Quarantine(directory: directory + "/rejected")
        return (CallbackIntake(http: http, outbox: outbox, quarantine: quarantine, logger: Logger(label: "test")), directory)
    }

    @Test("The allowlist admits listed networks only; no list admits everyone")
    func allowlist() throws {
        let (open, d1) = try intake { _ in }
        defer { try? FileManager.default.removeItem(atPath: d1) }
        #expect(open.isAllowed(client: "203.0.113.9"))
        let (closed, d2) = try intake { $0.allow = [CIDR("10.0.0.0/8")!, CIDR("::1")!] }
        defer { try? FileManager.default.removeItem(atPath: d2) }
        #expect(closed.isAllowed(client: "10.2.3.4"))
        #expect(closed.isAllowed(client: "::1"))
        #expect(!closed.isAllowed(client: "11.0.0.1"))
        #expect(!closed.isAllowed(client: nil))
    }

    @Test("X-Forwarded-For is believed only from trusted proxies, nearest untrusted hop wins")
    func forwardedFor() throws {
        let (intake, directory) = try intake { $0.trustedProxies = [CIDR("10.0.0.0/8")!] }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(intake.clientAddress(peer: "10.0.0.5", forwardedFor: "198.51.100.7, 10.0.0.9") == "198.51.100.7")
        // A client cannot spoof its way in by prepending addresses: the nearest untrusted hop counts.
        #expect(intake.clientAddress(peer: "10.0.0.5", forwardedFor: "10.1.1.1, 203.0.113.4, 10.0.0.9") == "203.0.113.4")
        #expect(intake.clientAddress(peer: "192.0.2.1", forwardedFor: "10.1.1.1") == "192.0.2.1")
        #expect(intake.clientAddress(peer: "10.0.0.5", forwardedFor: nil) == "10.0.0.5")
    }

    @Test("Tokens compare exactly; no configured token admits everyone")
    func tokens() throws {
        let (open, d1) = try intake { _ in }
        defer { try? FileManager.default.removeItem(atPath: d1) }
        #expect(open.isAuthorized(nil))
        let (closed, d2) = try intake { $0.token = "s3cret" }
        defer { try? FileManager.default.removeItem(atPath: d2) }
        #expect(closed.isAuthorized("s3cret"))
        #expect(!closed.isAuthorized("s3cre"))
        #expect(!closed.isAuthorized("s3cret!"))
        #expect(!closed.isAuthorized(""))
        #expect(!closed.isAuthorized(nil))
    }

    @Test("A refused body is kept with its reason; a test ping is answered without storing")
    func outcomes() async throws {
        let (intake, directory) = try intake { _ in }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bad = await intake.accept(body: Array("<Response><A></Response>".utf8), contentType: "application/xml", headers: [("User-Agent", "x")], client: "1.2.3.4")
        #expect(bad.status == 400)
        #expect(bad.code == "malformed_xml")
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory + "/rejected").sorted()
        #expect(kept.count == 2)
        // Rejected bodies are private to the service's user and group.
        for name in kept {
            let mode = try FileManager.default.attributesOfItem(atPath: directory + "/rejected/" + name)[.posixPermissions] as? Int
            #expect(mode == 0o640, "\(name): mode \(String(mode ?? 0, radix: 8))")
        }
        let folder = try FileManager.default.attributesOfItem(atPath: directory + "/rejected")[.posixPermissions] as? Int
        #expect(folder == 0o750)
        let ping = await intake.accept(body: Array(#"{"code":0,"message":"Test request when setting callback url"}"#.utf8), contentType: nil, headers: [], client: nil)
        #expect(ping.status == 200)
        #expect(ping.code == "test_ping")
    }
}
