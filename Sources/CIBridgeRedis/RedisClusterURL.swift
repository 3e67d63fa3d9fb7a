/// `redis-cluster://[user:password@]host:port[,host:port…]`: seed nodes of a
/// Redis Cluster, asked for the slot map (`CLUSTER SLOTS`); the credentials
/// are every node's. A cluster has only database 0.
public struct RedisClusterURL: Sendable, Hashable, CustomStringConvertible {
    public let seeds: [RedisSentinelURL.Sentinel]
    public let user: String?
    public let password: String?

    public init(_ text: String) throws(RedisError) {
        let scheme = "redis-cluster://"
        guard text.hasPrefix(scheme) else {
            throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): must start with \(scheme)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        (user, password) = RedisURL.takeCredentials(&rest)
        if rest.hasSuffix("/") || rest.hasSuffix("/0") { rest = rest[..<(rest.lastIndex(of: "/")!)] }
        guard !rest.contains("/"), !rest.contains("?") else {
            throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): a cluster has only database 0; give host:port,… only")
        }
        var seeds: [RedisSentinelURL.Sentinel] = []
        for hostPort in rest.split(separator: ",") {
            guard let colon = hostPort.lastIndex(of: ":"), colon != hostPort.startIndex,
                let port = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): '\(hostPort)' is not host:port")
            }
            seeds.append(RedisSentinelURL.Sentinel(host: String(hostPort[..<colon]), port: port))
        }
        guard !seeds.isEmpty else {
            throw RedisError(.configuration, "redis URL \(RedisURL.masked(text)): give at least one seed node as host:port")
        }
        self.seeds = seeds
    }

    /// The node at `host:port`, with this URL's credentials.
    public func node(host: String, port: Int) -> RedisURL {
        RedisURL(host: host, port: port, user: user, password: password, database: 0)
    }

    public var description: String {
        let credentials = RedisURL.maskedCredentials(user: user, password: password)
        return "redis-cluster://\(credentials)\(seeds.map(\.description).joined(separator: ","))"
    }
}
