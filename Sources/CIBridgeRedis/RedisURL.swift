/// Where and how to connect: `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to/redis.sock[?db=N&user=U&password=P]`. hiredis 0.14 has no
/// TLS, so `rediss://` is refused with a clear message.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public let endpoint: Endpoint
    public let user: String?
    public let password: String?
    public let database: Int

    /// A server at `host:port` with these credentials (a primary that Sentinel named).
    public init(host: String, port: Int, user: String?, password: String?, database: Int) {
        self.endpoint = .tcp(host: host, port: port)
        self.user = user
        self.password = password
        self.database = database
    }

    public init(_ text: String) throws(RedisError) {
        if text.hasPrefix("redis-sentinel://") {
            throw RedisError(.configuration, "redis URL \(Self.masked(text)): a redis-sentinel:// URL names sentinels, not a server (RedisSentinelURL)")
        }
        if text.hasPrefix("rediss://") {
            throw RedisError(.configuration, "rediss:// (TLS) is not supported by the hiredis this build uses; put a TLS proxy (stunnel, envoy) in front or use redis:// on a private network")
        }
        if text.hasPrefix("unix://") {
            let rest = text.dropFirst("unix://".count)
            let parts = rest.split(separator: "?", maxSplits: 1)
            guard let path = parts.first, path.hasPrefix("/") else {
                throw RedisError(.configuration, "redis URL \(text): unix:// needs an absolute socket path")
            }
            var query: [String: String] = [:]
            if parts.count == 2 {
                for pair in parts[1].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    query[String(kv[0])] = kv.count == 2 ? Self.percentDecoded(String(kv[1])) : ""
                }
            }
            guard let database = Int(query["db"] ?? "0"), database >= 0 else {
                throw RedisError(.configuration, "redis URL \(text): db must be a number")
            }
            self.endpoint = .unix(path: String(path))
            self.user = query["user"]
            self.password = query["password"]
            self.database = database
            return
        }
        guard text.hasPrefix("redis://") else {
            throw RedisError(.configuration, "redis URL \(Self.masked(text)): must start with redis:// or unix://")
        }
        var rest = Substring(text.dropFirst("redis://".count))
        let (user, password) = Self.takeCredentials(&rest)
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw RedisError(.configuration, "redis URL \(Self.masked(text)): database '\(path)' must be a number")
                }
                database = number
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw RedisError(.configuration, "redis URL \(Self.masked(text)): bad port")
            }
            port = number
        }
        if host.isEmpty { host = "127.0.0.1" }
        self.endpoint = .tcp(host: host, port: port)
        self.user = user
        self.password = password
        self.database = database
    }

    /// The URL with the password replaced by `***`: safe for logs.
    public var description: String {
        let credentials = Self.maskedCredentials(user: user, password: password)
        switch endpoint {
        case .tcp(let host, let port): return "redis://\(credentials)\(host):\(port)/\(database)"
        case .unix(let path): return "unix://\(path)?db=\(database)" + (password == nil ? "" : "&password=***")
        }
    }

    /// `text` with whatever sits between `://` and `@` reduced to `user:***`.
    /// Removes `[user]:password@` or `password@` from the front of `rest`
    /// (up to its last `@`), percent-decoded; a missing or empty user is `nil`.
    static func takeCredentials(_ rest: inout Substring) -> (user: String?, password: String?) {
        guard let at = rest.lastIndex(of: "@") else { return (nil, nil) }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        guard let colon = credentials.firstIndex(of: ":") else { return (nil, percentDecoded(String(credentials))) }
        let name = credentials[..<colon]
        return (name.isEmpty ? nil : percentDecoded(String(name)), percentDecoded(String(credentials[credentials.index(after: colon)...])))
    }

    /// `user:***@`, `:***@`, `user@` or nothing: credentials safe for logs.
    static func maskedCredentials(user: String?, password: String?) -> String {
        switch (user, password) {
        case (nil, nil): ""
        case (let user?, nil): "\(user)@"
        case (let user, _?): "\(user ?? ""):***@"
        }
    }

    static func masked(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let colonSlash = text.firstIndex(of: ":"),
            text[colonSlash...].hasPrefix("://")
        else { return text }
        let start = text.index(colonSlash, offsetBy: 3)
        guard start <= at else { return text }
        let credentials = text[start..<at]
        let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return String(text[..<start]) + (credentials.contains(":") ? user + ":***" : "***") + String(text[at...])
    }

    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = utf8.index(index, offsetBy: 3)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
