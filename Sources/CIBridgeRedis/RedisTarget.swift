/// What `redis.url` names: one server (`redis://`, `unix://`), or the
/// sentinels that know the primary (`redis-sentinel://`).
public enum RedisTarget: Sendable, Hashable, CustomStringConvertible {
    case server(RedisURL)
    case sentinel(RedisSentinelURL)

    public init(_ text: String) throws(RedisError) {
        if text.hasPrefix("redis-sentinel://") {
            self = .sentinel(try RedisSentinelURL(text))
        } else {
            self = .server(try RedisURL(text))
        }
    }

    /// Safe for logs: passwords masked.
    public var description: String {
        switch self {
        case .server(let url): url.description
        case .sentinel(let sentinel): sentinel.description
        }
    }
}
