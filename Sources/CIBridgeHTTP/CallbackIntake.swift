import CIBridgeConfiguration
import CIBridgeCore
import CIBridgeOutbox
import CIBridgeSinks
import Foundation
import Logging
import NIOCore
import Tracing

/// What happens to an admitted callback's body, independent of the HTTP server:
/// decoded, appended to the outbox, or kept in quarantine. Returns a
/// ``CallbackOutcome``; the HTTP layer turns it into an answer.
public struct CallbackIntake: Sendable {
    let outbox: Outbox
    let quarantine: Quarantine
    let decoder: CallbackDecoder
    let metrics: BridgeMetrics?
    let logger: Logger
    /// Added to every log line about the callback. Kept apart from the logger:
    /// setting logger metadata per request copies the handler (and, with
    /// swift-log's `StreamLogHandler`, re-renders its metadata), and most
    /// callbacks log nothing.
    var requestID: String?
    /// Whether to make decode and outbox-append spans (children of the
    /// current one): only when spans are exported, so that a bridge without a
    /// tracer pays nothing for them.
    var spans = false

    /// - Parameter metrics: where the append time and quarantine errors are counted; `nil`: nowhere.
    public init(http: BridgeConfiguration.HTTP, outbox: Outbox, quarantine: Quarantine, logger: Logger, metrics: BridgeMetrics? = nil) {
        self.outbox = outbox
        self.quarantine = quarantine
        var limits = DecoderLimits.standard
        limits.maxBodyBytes = http.bodyLimit
        self.decoder = CallbackDecoder(limits: limits)
        self.metrics = metrics
        self.logger = logger
    }

    /// This intake, making a span for the decode and one for the outbox append.
    public func withSpans() -> CallbackIntake {
        var copy = self
        copy.spans = true
        return copy
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

    /// Decodes, appends and answers. `headers` and `client` are kept with a
    /// quarantined body (and only then evaluated).
    /// `trace` is the W3C trace context its records carry to the sinks (none: they carry none).
    public func accept(
        body: [UInt8], contentType: String?, headers: @autoclosure () -> [(String, String)],
        client: @autoclosure () -> String?, trace: CallbackTrace? = nil
    ) async -> CallbackOutcome {
        await accept(body: ByteBuffer(bytes: body), contentType: contentType, headers: headers(), client: client(), trace: trace)
    }

    /// The same for a body as the HTTP server collected it: decoded in place,
    /// copied only into the quarantine.
    public func accept(
        body: ByteBuffer, contentType: String?, headers: @autoclosure () -> [(String, String)],
        client: @autoclosure () -> String?, trace: CallbackTrace? = nil
    ) async -> CallbackOutcome {
        let decodeSpan = spans ? startSpan("decode") : nil
        let entries: [OutboxEntry]
        let ids: [String]
        switch stage(body: body, contentType: contentType, trace: trace) {
        case .refused(let error):
            decodeSpan?.attributes["error.type"] = error.code.rawValue
            decodeSpan?.setStatus(SpanStatus(code: .error, message: error.description))
            decodeSpan?.end()
            await refuse(body: Array(buffer: body), headers: headers(), error: error, client: client())
            return .undecodable(error)
        case .answered(let outcome):
            decodeSpan?.end()
            return outcome
        case .append(let staged, let stagedIDs):
            entries = staged
            ids = stagedIDs
        }
        // The envelopes (and their ids) are made in `stage`: part of the decode.
        decodeSpan?.attributes["cloudevents.event_id"] = Self.ids(ids)
        decodeSpan?.end()
        // The append span covers the write and the wait for its group-committed fdatasync.
        let appendSpan = spans ? startSpan("outbox append") : nil
        appendSpan?.attributes["cloudevents.event_id"] = Self.ids(ids)
        let started = ContinuousClock.now
        let result: Result<[UInt64], OutboxError> = await withCheckedContinuation { continuation in
            outbox.append(entries) { continuation.resume(returning: $0) }
        }
        let outcome = appended(result, ids: ids, trace: trace, started: started)
        if case .failure(let error) = result {
            appendSpan?.setStatus(SpanStatus(code: .error, message: error.isBackpressure ? error.message : "\(error)"))
        }
        appendSpan?.end()
        return outcome
    }

    /// The same without a Swift task, for the HTTP edge's channel handler:
    /// decodes on the calling thread (never an event loop: the handler hands
    /// the body to a dispatch queue), appends, and calls `completion` once
    /// with the outcome, on the outbox's I/O thread or, for a body that is
    /// refused or quarantined, on the calling thread or a task. No spans:
    /// with spans exported, callbacks take the router's path.
    public func accept(
        body: ByteBuffer, contentType: String?, headers: @escaping @Sendable () -> [(String, String)],
        client: @escaping @Sendable () -> String?, trace: CallbackTrace?,
        completion: @escaping @Sendable (CallbackOutcome) -> Void
    ) {
        switch stage(body: body, contentType: contentType, trace: trace) {
        case .refused(let error):
            Task {
                await refuse(body: Array(buffer: body), headers: headers(), error: error, client: client())
                completion(.undecodable(error))
            }
        case .answered(let outcome):
            completion(outcome)
        case .append(let entries, let ids):
            let started = ContinuousClock.now
            outbox.append(entries) { result in
                completion(appended(result, ids: ids, trace: trace, started: started))
            }
        }
    }

    /// What decoding a body came to: records to append, an answer without
    /// appending (Tencent's test ping), or a refusal.
    enum Staged {
        case append([OutboxEntry], ids: [String])
        case answered(CallbackOutcome)
        case refused(DecodeError)
    }

    /// Decodes `body` and makes its envelopes and outbox entries: the part of
    /// a callback that needs no I/O, shared by both ways to accept it.
    private func stage(body: ByteBuffer, contentType: String?, trace: CallbackTrace?) -> Staged {
        let result = body.withUnsafeReadableBytes { raw in
            Result { () throws(DecodeError) in try decoder.decode(raw.assumingMemoryBound(to: UInt8.self), contentType: contentType) }
        }
        let decoded: CallbackBody
        switch result {
        case .success(let body): decoded = body
        case .failure(let error): return .refused(error)
        }
        if case .testPing(let message) = decoded {
            logger.info("test ping from Tencent", metadata: tagged(["message": "\(message)"]))
            return .answered(.testPing)
        }
        let envelopes = EnvelopeBuilder().envelopes(for: decoded)
        let traceparent = trace?.traceparent
        let tracestate = trace?.tracestate
        return .append(
            envelopes.map { OutboxEntry(envelope: $0, traceparent: traceparent, tracestate: tracestate) }, ids: envelopes.map(\.id))
    }

    /// The outcome of an append that began at `started`, logged and timed:
    /// the answer for both ways to accept a callback.
    private func appended(
        _ result: Result<[UInt64], OutboxError>, ids: [String], trace: CallbackTrace?, started: ContinuousClock.Instant
    ) -> CallbackOutcome {
        metrics?.recordAppend(ContinuousClock.now - started)
        switch result {
        case .success:
            logger.debug(
                "callback stored",
                metadata: tagged([
                    "events": "\(ids.count)", "ids": "\(ids.joined(separator: ","))",
                    "traceparent": "\(trace?.traceparent ?? "none")",
                ]))
            return .accepted(ids: ids)
        case .failure(let error) where error.isBackpressure:
            logger.warning("outbox refused the callback; answering 503", metadata: tagged(["reason": "\(error.message)"]))
            return .outboxRefused(error)
        case .failure(let error):
            logger.error("outbox failed; answering 503", metadata: tagged(["error": "\(error)"]))
            return .outboxFailed("\(error)")
        }
    }

    /// The `cloudevents.event_id` span attribute: the id, or every id of a callback with several events.
    static func ids(_ ids: [String]) -> SpanAttribute {
        ids.count == 1 ? .string(ids[0]) : .stringArray(ids)
    }

    /// Keeps a body that could not be decoded, and says so in one log line: a
    /// warning, or an error (also counted) when the quarantine could not write it.
    private func refuse(body: [UInt8], headers: [(String, String)], error: DecodeError, client: String?) async {
        var metadata: Logger.Metadata = ["reason": "\(error.code)", "detail": "\(error.description)"]
        do {
            let kept = try await quarantine.keep(body: body, headers: headers, reason: error.description, remote: client)
            metadata["quarantined"] = "\(kept ?? "no (quarantine full)")"
            logger.warning("callback refused", metadata: tagged(metadata))
        } catch let failure {
            metrics?.recordQuarantineFailure()
            metadata["quarantined"] = "no (\(failure.code))"
            metadata["quarantine_error"] = "\(failure.message)"
            logger.error("callback refused; its body could not be quarantined", metadata: tagged(metadata))
        }
    }
}
