internal import CHiredis

/// Facts about the hiredis library this binary is built and linked against.
public enum RedisLibrary {
    /// The hiredis version from its headers (for example `0.14.1`).
    public static var version: String {
        "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)"
    }

    /// Feeds a RESP status reply through the linked hiredis reader and returns
    /// the decoded status text: `"OK"` when the library is linked and working.
    ///
    /// `cibridge version` uses this to prove the shared library loads, not just
    /// that its headers were found at build time.
    public static func readerSelfCheck() -> String? {
        guard let reader = redisReaderCreate() else { return nil }
        defer { redisReaderFree(reader) }
        let wire = "+OK\r\n"
        let fed = wire.withCString { redisReaderFeed(reader, $0, wire.utf8.count) }
        guard fed == REDIS_OK else { return nil }
        var reply: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &reply) == REDIS_OK, let reply else { return nil }
        defer { freeReplyObject(reply) }
        let object = reply.assumingMemoryBound(to: redisReply.self).pointee
        guard object.type == REDIS_REPLY_STATUS, let text = object.str else { return nil }
        return String(cString: text)
    }
}
