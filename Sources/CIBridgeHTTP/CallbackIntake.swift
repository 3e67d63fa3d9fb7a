import CIBridgeConfiguration
import CIBridgeCore
import CIBridgeOutbox
import Foundation
import Logging
import Metrics

/// What happens to one callback request, independent of the HTTP server:
/// who may send, what is accepted, and what is kept. The HTTP layer only
/// carries the bytes in and the ``Outcome`` out.
public struct CallbackIntake: Sendable {
    /// The answer to a callback request.
    public struct Outcome: Sendable, Equatable {
        public var status: Int
        /// A stable reason code (`accepted`, `test_ping`, `unauthorized`, `malformed_xml`, …).
        public var code: String
        public var message: String
        public var ids: [String] = []
        public var retryAfterSeconds: Int?
    }

    let http: BridgeConfiguration.HTTP
    let outbox: Outbox
    let quarantine: Quarantine
    let decoder: CallbackDecoder
    let appendDuration: Metrics.Timer
    let logger: Logger
    /// Added to every log line about the callback. Kept apart from the logger:
    /// setting logger metadata per request re-renders the handler's metadata
    /// (about 1 % of the CPU of an accepted callback), and most callbacks log nothing.
    var requestID: String?

    public init(http: BridgeConfiguration.HTTP, outbox: Outbox, quarantine: Quarantine, logger: Logger) {
        self.http = http
        self.outbox = outbox
        self.quarantine = quarantine
        var limits = DecoderLimits.standard
        limits.maxBodyBytes = http.bodyLimit
        self.decoder = CallbackDecoder(limits: limits)
        self.appendDuration = Metrics.Timer(label: "cibridge_outbox_append_duration_seconds", preferredDisplayUnit: .seconds)
        self.logger = logger
    }

    /// This intake, logging with `requestID` in every line.
    public func with(requestID: String) -> CallbackIntake {
        var copy = self
        copy.requestID = requestID
        return copy
    }

    /// `metadata` with this callback's request id.
    private func tagged(_ metadata: Logger.Metadata) -> Logger.Metadata {
        guard let requestID else { return metadata }
        var tagged = metadata
        tagged["request_id"] = .string(requestID)
        return tagged
    }

    /// The client address to check: the peer, or the first untrusted address in
    /// `X-Forwarded-For` when the peer is a trusted proxy.
    public func clientAddress(peer: String?, forwardedFor: String?) -> String? {
        guard let peer else { return nil }
        guard let forwardedFor, http.trustedProxies.contains(where: { $0.contains(peer) }) else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        // Walk from the nearest hop back; the first one that is not a trusted proxy is the client.
        for hop in hops.reversed() where !http.trustedProxies.contains(where: { $0.contains(hop) }) { return hop }
        return hops.first ?? peer
    }

    /// Whether `client` may send at all (403 otherwise).
    public func isAllowed(client: String?) -> Bool {
        guard !http.allow.isEmpty else { return true }
        guard let client else { return false }
        return http.allow.contains { $0.contains(client) }
    }

    /// Whether `presented` is the token (constant time in the token's length).
    public func isAuthorized(_ presented: String?) -> Bool {
        guard let expected = http.token else { return true }
        guard let presented else { return false }
        let a = Array(expected.utf8)
        let b = Array(presented.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<a.count { difference |= a[index] ^ (index < b.count ? b[index] : 0) }
        return difference == 0
    }

    /// Decodes, appends and answers. `headers` are kept with a quarantined body
    /// (and only then evaluated).
    public func accept(body: [UInt8], contentType: String?, headers: @autoclosure () -> [(String, String)], client: String?) async -> Outcome {
        let decoded: CallbackBody
        do {
            decoded = try decoder.decode(body, contentType: contentType)
        } catch {
            let kept = quarantine.keep(body: body, headers: headers(), reason: error.description, remote: client)
            logger.warning("callback refused", metadata: tagged([
                "reason": "\(error.code)", "detail": "\(error.description)", "quarantined": "\(kept ?? "no (quarantine full)")",
            ]))
            let status = error.code == .bodyTooLarge ? 413 : 400
            return Outcome(status: status, code: error.code.rawValue, message: error.description)
        }
        if case .testPing(let message) = decoded {
            logger.info("test ping from Tencent", metadata: tagged(["message": "\(message)"]))
            return Outcome(status: 200, code: "test_ping", message: "test ping received; nothing to publish")
        }
        let envelopes = EnvelopeBuilder().envelopes(for: decoded)
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            appendDuration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        do {
            _ = try await outbox.append(envelopes.map { OutboxEntry(key: $0.partitionKey, payload: $0.jsonBytes()) })
        } catch let error as OutboxError where error.isBackpressure {
            logger.warning("outbox refused the callback; answering 503", metadata: tagged(["reason": "\(error.message)"]))
            return Outcome(status: 503, code: error.code.rawValue, message: error.message, retryAfterSeconds: 30)
        } catch {
            logger.error("outbox failed; answering 503", metadata: tagged(["error": "\(error)"]))
            return Outcome(status: 503, code: "outbox_error", message: "\(error)", retryAfterSeconds: 60)
        }
        logger.debug("callback stored", metadata: tagged(["events": "\(envelopes.count)", "ids": "\(envelopes.map(\.id).joined(separator: ","))"]))
        return Outcome(status: 200, code: "accepted", message: "\(envelopes.count) event(s) stored", ids: envelopes.map(\.id))
    }
}
