import CIBridgeConfiguration
import CIBridgeHTTP
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// Who may send and in what form, decided by the policy alone, without a server.
@Suite("Callback policy")
struct CallbackPolicyTests {
    func policy(_ adjust: (inout BridgeConfiguration.HTTP) -> Void = { _ in }) -> CallbackPolicy {
        var http = BridgeConfiguration.HTTP()
        adjust(&http)
        return CallbackPolicy(http: http)
    }

    func request(_ path: String, _ headers: HTTPFields = [:]) -> Request {
        Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: path, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer()))
    }

    @Test("The allowlist admits listed networks only; no list admits everyone")
    func allowlist() {
        #expect(policy().isAllowed(client: "203.0.113.9"))
        let closed = policy { $0.allow = [CIDR("10.0.0.0/8")!, CIDR("::1")!] }
        #expect(closed.isAllowed(client: "10.2.3.4"))
        #expect(closed.isAllowed(client: "::1"))
        #expect(!closed.isAllowed(client: "11.0.0.1"))
        #expect(!closed.isAllowed(client: nil))
    }

    @Test("X-Forwarded-For is believed only from trusted proxies, nearest untrusted hop wins")
    func forwardedFor() {
        let policy = policy { $0.trustedProxies = [CIDR("10.0.0.0/8")!] }
        #expect(policy.clientAddress(peer: "10.0.0.5", forwardedFor: "198.51.100.7, 10.0.0.9") == "198.51.100.7")
        // A client cannot spoof its way in by prepending addresses: the nearest untrusted hop counts.
        #expect(policy.clientAddress(peer: "10.0.0.5", forwardedFor: "10.1.1.1, 203.0.113.4, 10.0.0.9") == "203.0.113.4")
        #expect(policy.clientAddress(peer: "192.0.2.1", forwardedFor: "10.1.1.1") == "192.0.2.1")
        #expect(policy.clientAddress(peer: "10.0.0.5", forwardedFor: nil) == "10.0.0.5")
    }

    @Test("The peer's address is made only for an allowlist, which then names the client it checked")
    func peerOnlyForAllowlist() {
        var made = 0
        func peer() -> String? {
            made += 1
            return "10.0.0.5"
        }
        #expect(policy().admit(request("/callbacks"), pathToken: nil, peer: peer()) == .admitted(client: nil))
        #expect(made == 0)
        let listed = policy {
            $0.allow = [CIDR("198.51.100.0/24")!]
            $0.trustedProxies = [CIDR("10.0.0.0/8")!]
        }
        let forwarded = request("/callbacks", [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7"])
        #expect(listed.admit(forwarded, pathToken: nil, peer: peer()) == .admitted(client: "198.51.100.7"))
        #expect(listed.admit(request("/callbacks"), pathToken: nil, peer: peer()) == .refused(.forbidden(client: "10.0.0.5")))
        #expect(made == 2)
    }

    @Test("Tokens compare exactly; no configured token admits everyone")
    func tokens() {
        #expect(policy().isAuthorized(nil))
        let closed = policy { $0.token = "s3cret" }
        #expect(closed.isAuthorized("s3cret"))
        #expect(!closed.isAuthorized("s3cre"))
        #expect(!closed.isAuthorized("s3cret!"))
        #expect(!closed.isAuthorized("s3creT"))
        #expect(!closed.isAuthorized(""))
        #expect(!closed.isAuthorized(nil))
    }

    @Test("The token is taken from the path, ?token=, X-CIBridge-Token or Authorization: Bearer; the first present counts")
    func tokenSources() {
        let policy = policy { $0.token = "s3cret" }
        // No allowlist: the address was not needed, so not made.
        let admitted = CallbackPolicy.Admission.admitted(client: nil)
        #expect(policy.admit(request("/callbacks/s3cret"), pathToken: "s3cret", peer: "192.0.2.1") == admitted)
        #expect(policy.admit(request("/callbacks?token=s3cret"), pathToken: nil, peer: "192.0.2.1") == admitted)
        #expect(policy.admit(request("/callbacks", [HTTPField.Name("X-CIBridge-Token")!: "s3cret"]), pathToken: nil, peer: "192.0.2.1") == admitted)
        #expect(policy.admit(request("/callbacks", [.authorization: "Bearer s3cret"]), pathToken: nil, peer: "192.0.2.1") == admitted)
        #expect(policy.admit(request("/callbacks", [.authorization: "bearer s3cret"]), pathToken: nil, peer: "192.0.2.1") == admitted)
        let refused = CallbackPolicy.Admission.refused(.unauthorized)
        #expect(policy.admit(request("/callbacks"), pathToken: nil, peer: "192.0.2.1") == refused)
        #expect(policy.admit(request("/callbacks", [.authorization: "Basic s3cret"]), pathToken: nil, peer: "192.0.2.1") == refused)
        // A wrong token in the path is not rescued by a right one elsewhere.
        #expect(policy.admit(request("/callbacks/wrong?token=s3cret"), pathToken: "wrong", peer: "192.0.2.1") == refused)
    }

    @Test("XML and JSON media types pass, sniffable ones too; others are 415")
    func contentTypes() {
        let policy = policy()
        for readable in ["application/xml", "text/xml; charset=utf-8", "application/json", "application/cloudevents+json", "Application/XML",
            "text/plain", "application/octet-stream", ""]
        {
            #expect(policy.admit(request("/callbacks", [.contentType: readable]), pathToken: nil, peer: nil) == .admitted(client: nil), "\(readable)")
        }
        #expect(policy.admit(request("/callbacks"), pathToken: nil, peer: nil) == .admitted(client: nil))
        #expect(policy.admit(request("/callbacks", [.contentType: "image/png"]), pathToken: nil, peer: nil) == .refused(.unsupportedMediaType("image/png")))
    }

    @Test("The allowlist is checked before the token, the token before the content type")
    func order() {
        let policy = policy {
            $0.allow = [CIDR("10.0.0.0/8")!]
            $0.token = "s3cret"
        }
        let png: HTTPFields = [.contentType: "image/png"]
        #expect(policy.admit(request("/callbacks", png), pathToken: nil, peer: "192.0.2.1") == .refused(.forbidden(client: "192.0.2.1")))
        #expect(policy.admit(request("/callbacks", png), pathToken: nil, peer: "10.0.0.1") == .refused(.unauthorized))
        #expect(policy.admit(request("/callbacks", png), pathToken: "s3cret", peer: "10.0.0.1") == .refused(.unsupportedMediaType("image/png")))
    }
}
