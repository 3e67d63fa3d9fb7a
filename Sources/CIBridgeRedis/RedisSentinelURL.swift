/// `redis-sentinel://[user:password@]host:port[,host:port…]/<primary-name>[?db=N]`:
/// the sentinels to ask for the primary named `primary-name`, and the
/// credentials and database of that primary.
public struct RedisSentinelURL: Sendable, Hashable, CustomStringConvertible {
    public struct Sentinel: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let port: Int
        public var description: String { "\(host):\(port)" }
    }

    public let sentinels: [Sentinel]
    public let primaryName: String
    /// For the primary (and for sentinels that ask for a password).
    public let user: String?
    public let password: String?
    public let database: Int

    public init(_ text: String) throws(RedisError) {
        let scheme = "redis-sentinel://"
        guard text.hasPrefix(scheme) else {
            throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): must start with \(scheme)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        var database = 0
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, kv[0] == "db", let number = Int(kv[1]), number >= 0 else {
                    throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): the only option is db=N")
                }
                database = number
            }
            rest = rest[..<question]
        }
        let (user, password) = RedisURL.takeCredentials(&rest)
        guard let slash = rest.firstIndex(of: "/"), !rest[rest.index(after: slash)...].isEmpty else {
            throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): name the primary after the sentinels (…/mymaster)")
        }
        let name = String(rest[rest.index(after: slash)...])
        var sentinels: [Sentinel] = []
        for hostPort in rest[..<slash].split(separator: ",") {
            guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
                (1...65535).contains(port), colon != hostPort.startIndex
            else {
                throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): '\(hostPort)' is not host:port")
            }
            sentinels.append(Sentinel(host: String(hostPort[..<colon]), port: port))
        }
        guard !sentinels.isEmpty else {
            throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): give at least one sentinel as host:port")
        }
        self.sentinels = sentinels
        self.primaryName = RedisURL.percentDecoded(name)
        self.user = user
        self.password = password
        self.database = database
    }

    /// The primary at `host:port`, with this URL's credentials and database.
    public func primary(host: String, port: Int) -> RedisURL {
        RedisURL(host: host, port: port, user: user, password: password, database: database)
    }

    /// A sentinel, without credentials (Sentinel's own `requirepass` is rare; see ``RedisPrimaryLocator``).
    func url(of sentinel: Sentinel, withCredentials: Bool) -> RedisURL {
        RedisURL(
            host: sentinel.host, port: sentinel.port, user: withCredentials ? user : nil, password: withCredentials ? password : nil,
            database: 0)
    }

    /// Safe for logs: the password masked.
    public var description: String {
        let credentials = RedisURL.maskedCredentials(user: user, password: password)
        return "redis-sentinel://\(credentials)\(sentinels.map(\.description).joined(separator: ","))/\(primaryName)"
            + (database == 0 ? "" : "?db=\(database)")
    }
}
