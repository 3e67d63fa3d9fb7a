internal import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// Owns one hiredis `redisContext` (freed in `deinit`). Every call blocks, so
/// a connection is confined to one thread: the sink's own I/O queue, or the
/// CLI's main thread; it is deliberately not `Sendable`.
///
/// Commands are binary-safe argument lists, sent in pipelined batches: encoded
/// as RESP into one buffer, appended with `redisAppendFormattedCommand`, then
/// all replies read. Replies are copied into ``RedisReply`` and freed at once.
///
/// hiredis writes with plain `write(2)`: a pipeline written to a Redis that has
/// just died would raise SIGPIPE and kill the whole process. The first
/// connection therefore sets SIGPIPE to ignored for the process, so such a
/// write fails with `EPIPE` (a connection error, retried) instead.
public final class RedisConnection {
    private static let brokenPipesIgnored: Void = { signal(SIGPIPE, SIG_IGN) }()

    private let context: UnsafeMutablePointer<redisContext>
    public let url: RedisURL

    /// Connects, authenticates and selects the database.
    /// - Parameters:
    ///   - connectTimeout: for the TCP or unix-socket connect.
    ///   - commandTimeout: for every command afterwards; a timeout breaks the connection.
    public init(url: RedisURL, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5)) throws(RedisError) {
        self.url = url
        Self.brokenPipesIgnored
        let connect = Self.timeval(connectTimeout)
        let made: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port): made = redisConnectWithTimeout(host, Int32(port), connect)
        case .unix(let path): made = redisConnectUnixWithTimeout(path, connect)
        }
        guard let made else { throw RedisError(.connection, "cannot connect to \(url): out of memory") }
        if made.pointee.err != 0 {
            let reason = Self.errorText(made)
            redisFree(made)
            throw RedisError(.connection, "cannot connect to \(url): \(reason)")
        }
        context = made
        redisSetTimeout(context, Self.timeval(commandTimeout))
        if case .tcp = url.endpoint { redisEnableKeepAlive(context) }
        if let password = url.password {
            let args = url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            let reply = try command(args.map { Array($0.utf8) })
            if case .error(let text) = reply {
                throw RedisError(.authentication, "redis \(url): authentication failed: \(text)")
            }
        }
        if url.database != 0 {
            if case .error(let text) = try command(["SELECT", String(url.database)].map { Array($0.utf8) }) {
                throw RedisError(.configuration, "redis \(url): SELECT \(url.database) failed: \(text)")
            }
        }
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command and returns its reply (error replies are returned, not thrown).
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        try pipeline([arguments])[0]
    }

    /// Sends `commands` in one pipeline and returns their replies, in order.
    /// Throws only for connection failures (then the connection is unusable).
    ///
    /// The commands are written as RESP into one buffer and handed to hiredis
    /// with `redisAppendFormattedCommand` (non-variadic): one copy, no
    /// per-argument allocation.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        try send(commands)
        return try receive(commands.count)
    }

    /// Writes `commands` to the server without waiting for their replies, so
    /// that Redis can work on them while the caller prepares the next pipeline.
    /// Read the replies, in order, with ``receive(_:)``.
    public func send(_ commands: [[[UInt8]]]) throws(RedisError) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(commands.reduce(0) { total, command in total + 16 + command.reduce(0) { $0 + $1.count + 16 } })
        for arguments in commands { Self.encode(arguments, into: &buffer) }
        let appended = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard appended == REDIS_OK else { throw connectionError("append") }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw connectionError("write") }
        }
    }

    /// The next `count` replies, in the order their commands were sent.
    public func receive(_ count: Int) throws(RedisError) -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw connectionError("read") }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.copy(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Appends one command as a RESP array of bulk strings.
    static func encode(_ arguments: [[UInt8]], into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &buffer)
        for argument in arguments {
            buffer.append(UInt8(ascii: "$"))
            appendDecimal(argument.count, to: &buffer)
            buffer.append(contentsOf: argument)
            buffer.append(0x0D)
            buffer.append(0x0A)
        }
    }

    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: String(value).utf8)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    private func connectionError(_ step: String) -> RedisError {
        RedisError(.connection, "redis \(url): \(Self.errorText(context))")
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafePointer(to: context.pointee.errstr) {
            $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
        if text == "Resource temporarily unavailable" { return "timed out" }
        return text.isEmpty ? "connection lost" : text
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STATUS: return .status(value.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_ERROR: return .error(value.str.map { String(cString: $0) } ?? "")
        case REDIS_REPLY_INTEGER: return .integer(value.integer)
        case REDIS_REPLY_STRING:
            return .bulk(value.str.map { Array(UnsafeRawBufferPointer(start: $0, count: value.len)) } ?? [])
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            for index in 0..<value.elements {
                if let element = value.element[index] { elements.append(copy(element)) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
