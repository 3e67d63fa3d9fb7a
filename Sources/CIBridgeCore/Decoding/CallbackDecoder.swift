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
    /// (older bodies have no `EventName`), then by `EventName`.
    private func classify(_ root: CanonicalValue?) throws(DecodeError) -> CallbackBody {
        guard let root, case .object = root else {
            throw DecodeError(.notACallback, "empty callback: no EventName, JobsDetail or WorkflowExecution")
        }
        let eventName = root.string(at: "EventName")
        if let jobs = root["JobsDetail"] {
            return .jobs(eventName: eventName, jobs.elements.map(JobDetail.init(canonical:)))
        }
        if let executions = root["WorkflowExecution"] {
            return .workflow(eventName: eventName, executions.elements.map(WorkflowExecution.init(canonical:)))
        }
        if let eventName {
            return .other(eventName: eventName, body: root)
        }
        if let message = root.string(at: "message") ?? root.string(at: "Message"),
            message.lowercased().contains("test request")
        {
            return .testPing(message: message)
        }
        throw DecodeError(.notACallback, "not a Cloud Infinite callback: no EventName, JobsDetail or WorkflowExecution")
    }
}
