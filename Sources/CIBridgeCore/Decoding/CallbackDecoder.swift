/// Decodes a callback body, XML or JSON, into a ``CallbackBody``.
///
/// The body's own first byte decides the syntax (see ``BodyFormat/sniff(_:)``);
/// both syntaxes go through the same ``Canonicalizer``, so an event gives the
/// same ``CallbackBody`` whichever way it arrived.
public struct CallbackDecoder: Sendable {
    public var limits: DecoderLimits
    public var canonicalizer: Canonicalizer

    public init(limits: DecoderLimits = .standard, canonicalizer: Canonicalizer = Canonicalizer()) {
        self.limits = limits
        self.canonicalizer = canonicalizer
    }

    /// Decodes `body`.
    /// - Parameter contentType: the request's `Content-Type`, used only to word errors.
    public func decode(_ body: [UInt8], contentType: String? = nil) throws(DecodeError) -> CallbackBody {
        let result: Result<CallbackBody, DecodeError> = body.withUnsafeBufferPointer { buffer in
            Result { () throws(DecodeError) -> CallbackBody in try decode(buffer, contentType: contentType) }
        }
        return try result.get()
    }

    /// Decodes the bytes in `body`.
    public func decode(_ body: UnsafeBufferPointer<UInt8>, contentType: String? = nil) throws(DecodeError) -> CallbackBody {
        guard body.count <= limits.maxBodyBytes else {
            throw DecodeError(.bodyTooLarge, "body is \(body.count) bytes; the limit is \(limits.maxBodyBytes)")
        }
        if let offset = UTF8Validation.firstInvalidOffset(in: body) {
            throw DecodeError(.invalidUTF8, "invalid UTF-8 at byte \(offset)", at: SourcePosition.locate(offset: offset, in: body))
        }
        guard let format = BodyFormat.sniff(body) else {
            if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }) {
                throw DecodeError(.emptyBody, "empty body")
            }
            let declared = contentType.map { " (Content-Type: \($0))" } ?? ""
            throw DecodeError(.unknownFormat, "body is neither XML nor JSON\(declared)", at: SourcePosition(line: 1, column: 1, offset: 0))
        }
        let root: CanonicalValue?
        switch format {
        case .xml:
            var parser = XMLTreeParser(bytes: body, limits: limits, canonicalizer: canonicalizer)
            root = try parser.parseDocument()
        case .json:
            var parser = JSONTreeParser(bytes: body, limits: limits, canonicalizer: canonicalizer)
            root = try parser.parseDocument()
        }
        return try classify(root)
    }

    /// Decides what kind of callback a canonical body is: by its shape first
    /// (older bodies have no `EventName`, Simple moderation bodies carry theirs
    /// as `data.event`), then by the event name.
    private func classify(_ parsed: CanonicalValue?) throws(DecodeError) -> CallbackBody {
        guard var root = parsed, case .object(let members) = root else {
            throw DecodeError(.notACallback, "empty callback: no EventName, JobsDetail or WorkflowExecution")
        }
        // Some job callbacks come as JSON wrapped in `"Response"`, the XML root
        // element, which the XML parser leaves out: unwrap it, so that both
        // give the same canonical body.
        if members.count == 1, members[0].name == "Response", case .object = members[0].value {
            root = members[0].value
        }
        if let message = Self.testRequestMessage(root) {
            return .testPing(message: message)
        }
        let eventName = root.string(at: "EventName")
        if let jobs = root["JobsDetail"] {
            if let eventName, let kind = ModerationKind(eventName: eventName, type: nil) {
                return .moderation(
                    jobs.elements.map { job in
                        // A live stream's job says so in its `Type`.
                        let jobKind = ModerationKind(eventName: eventName, type: job.string(at: "Type")) ?? kind
                        return ModerationResult(kind: jobKind, version: .detail, eventName: eventName, canonical: job)
                    })
            }
            return .jobs(eventName: eventName, jobs.elements.map(JobDetail.init(canonical:)))
        }
        if let executions = root["WorkflowExecution"] {
            return .workflow(eventName: eventName, executions.elements.map(WorkflowExecution.init(canonical:)))
        }
        // A Simple moderation body: lowercase `code`, `message` and `data`,
        // whose `event` names the kind (older bodies have only `trace_id`).
        if eventName == nil, let data = root["data"], case .object = data {
            if let event = data.string(at: "event") {
                if let kind = ModerationKind(eventName: event, type: nil) {
                    return .moderation([ModerationResult(kind: kind, version: .simple, eventName: event, canonical: root)])
                }
                return .other(eventName: event, body: root)
            }
            if data["trace_id"] != nil {
                return .moderation([ModerationResult(kind: nil, version: .simple, eventName: nil, canonical: root)])
            }
        }
        if let eventName {
            return .other(eventName: eventName, body: root)
        }
        throw DecodeError(.notACallback, "not a Cloud Infinite callback: no EventName, JobsDetail, WorkflowExecution or data.event")
    }

    /// The message of Tencent's console test request ("Test request when
    /// setting callback url"), which any kind of callback URL receives when it
    /// is set up; `nil` for a real callback.
    static func testRequestMessage(_ root: CanonicalValue) -> String? {
        guard let message = root.string(at: "message") ?? root.string(at: "Message"),
            message.lowercased().contains("test request")
        else { return nil }
        return message
    }
}
