import CIBridgeConfiguration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore

/// Who may post a callback, and in what form: decided here, once, before the
/// body is read.
///
/// In this order, as the client sees it:
/// 1. the **allowlist** (403): the peer's address, or, when the peer is a trusted
///    proxy, the nearest untrusted hop of `X-Forwarded-For`;
/// 2. the **token** (401): from the path (`/callbacks/{token}`), `?token=`,
///    `X-CIBridge-Token` or `Authorization: Bearer`, the first present wins;
///    compared in constant time;
/// 3. the **content type** (415): XML, JSON, or what is sniffed (none,
///    `text/plain`, `application/octet-stream`).
public struct CallbackPolicy: Sendable {
    /// The policy's decision about one request.
    public enum Admission: Sendable, Equatable {
        /// Go on and read the body; `client` is the address checked against the
        /// allowlist (`nil` when there is none: nothing needed the address).
        case admitted(client: String?)
        /// Answer with this refusal; nothing is read or stored.
        case refused(CallbackOutcome)
    }

    let allow: [CIDR]
    let trustedProxies: [CIDR]
    /// The token's bytes, made once rather than on every comparison.
    let token: [UInt8]?

    public init(http: BridgeConfiguration.HTTP) {
        self.allow = http.allow
        self.trustedProxies = http.trustedProxies
        self.token = http.token.map { Array($0.utf8) }
    }

    /// Decides about `request`, from `peer` (the connection's remote address, if
    /// known) and the `{token}` path segment, if the route has one. `peer` is
    /// evaluated only when there is an allowlist: making the address's text
    /// costs, and most bridges have none.
    public func admit(_ request: Request, pathToken: String?, peer: @autoclosure () -> String?) -> Admission {
        admit(request.head, pathToken: pathToken, peer: peer())
    }

    /// The same for a request's head, as the HTTP edge's channel handler has it.
    public func admit(_ request: HTTPRequest, pathToken: String?, peer: @autoclosure () -> String?) -> Admission {
        let headers = request.headerFields
        var client: String?
        if !allow.isEmpty {
            client = clientAddress(of: request, peer: peer())
            guard isAllowed(client: client) else { return .refused(.forbidden(client: client)) }
        }
        // Evaluated lazily: parsing the query costs, and Tencent puts the token in the path.
        let presented = pathToken ?? URI(request.path ?? "").queryParameters.get("token") ?? headers.value(of: Self.tokenHeader)
            ?? Self.bearer(headers.value(of: .authorization))
        guard isAuthorized(presented) else { return .refused(.unauthorized) }
        if let contentType = headers.value(of: .contentType), !Self.isReadable(contentType) {
            return .refused(.unsupportedMediaType(contentType))
        }
        return .admitted(client: client)
    }

    /// The client address of `request` from `peer`: see ``clientAddress(peer:forwardedFor:)``.
    public func clientAddress(of request: Request, peer: String?) -> String? {
        clientAddress(of: request.head, peer: peer)
    }

    /// The same for a request's head.
    public func clientAddress(of request: HTTPRequest, peer: String?) -> String? {
        clientAddress(peer: peer, forwardedFor: request.headerFields.value(of: Self.forwardedFor))
    }

    /// The client address to check: the peer, or the first untrusted address in
    /// `X-Forwarded-For` when the peer is a trusted proxy.
    public func clientAddress(peer: String?, forwardedFor: String?) -> String? {
        guard let peer else { return nil }
        guard let forwardedFor, trustedProxies.contains(where: { $0.contains(peer) }) else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        // Walk from the nearest hop back; the first one that is not a trusted proxy is the client.
        for hop in hops.reversed() where !trustedProxies.contains(where: { $0.contains(hop) }) { return hop }
        return hops.first ?? peer
    }

    /// Whether `client` may send at all (403 otherwise).
    public func isAllowed(client: String?) -> Bool {
        guard !allow.isEmpty else { return true }
        guard let client else { return false }
        return allow.contains { $0.contains(client) }
    }

    /// Whether `presented` is the token. The time taken depends only on the
    /// configured token's length, never on how much of it `presented` matches.
    public func isAuthorized(_ presented: String?) -> Bool {
        guard let token else { return true }
        guard let presented else { return false }
        let bytes = presented.utf8
        var difference = UInt8(token.count == bytes.count ? 0 : 1)
        var other = bytes.makeIterator()
        for byte in token { difference |= byte ^ (other.next() ?? 0) }
        return difference == 0
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ header: String?) -> String? {
        guard let header, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7))
    }

    /// XML, JSON, or generic text/binary (sniffed): what Tencent and proxies send.
    static func isReadable(_ contentType: String) -> Bool {
        // What Tencent sends, without lowercasing and trimming on every request.
        if contentType == "application/xml" || contentType == "application/json" || contentType == "text/xml" { return true }
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media.hasSuffix("/xml") || media.hasSuffix("+xml") || media.hasSuffix("/json") || media.hasSuffix("+json")
            || media == "text/plain" || media == "application/octet-stream" || media.isEmpty
    }

    /// Made once: a field name is validated when made.
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let tokenHeader = HTTPField.Name("X-CIBridge-Token")!
}
