/// What `redis.url` names: one server (`redis://`, `unix://`), the
/// sentinels that know the primary (`redis-sentinel://`), or the seed nodes
/// of a cluster (`redis-cluster://`).
public enum RedisTarget: Sendable, Hashable, CustomStringConvertible {
    case server(RedisURL)
    case sentinel(RedisSentinelURL)
    /// The seed nodes of a Redis Cluster (`redis-cluster://`).
    case cluster(RedisClusterURL)

    public init(_ text: String) throws(RedisError) {
        if text.hasPrefix("redis-sentinel://") {
            self = .sentinel(try RedisSentinelURL(text))
        } else if text.hasPrefix("redis-cluster://") {
            self = .cluster(try RedisClusterURL(text))
        } else {
            self = .server(try RedisURL(text))
        }
    }

    /// Safe for logs: passwords masked.
    public var description: String {
        switch self {
        case .server(let url): url.description
        case .sentinel(let sentinel): sentinel.description
        case .cluster(let cluster): cluster.description
        }
    }
}
