import Logging
import Synchronization

/// Where the sink's connections go: one server, or the primary that Redis
/// Sentinel names. Every new connection asks again, so after a failover
/// (the old primary unreachable, or answering `READONLY` as a replica) the
/// next connection finds the new primary without a restart. A connection is
/// made only to a server whose `ROLE` is `master`: a sentinel that has not yet
/// noticed a failover can name a server that is now a replica, and cibridge
/// never writes to a replica.
final class RedisPrimaryLocator: Sendable {
    let target: RedisTarget
    private let logger: Logger
    /// The primary last connected to, to log a change once.
    private let current = Mutex<RedisURL?>(nil)

    init(target: RedisTarget, logger: Logger) {
        self.target = target
        self.logger = logger
    }


    /// The server last connected to (the primary, under Sentinel).
    var currentServer: RedisURL? { current.withLock { $0 } }

    /// A new connection to the server, or to the primary the sentinels name now.
    func connect(connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) -> RedisConnection {
        switch target {
        case .server(let url):
            let connection = try RedisConnection(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            current.withLock { $0 = url }
            return connection
        case .cluster(let cluster):
            // Any node answers (the probe's question); writes go through RedisClusterPublisher.
            var reasons: [String] = []
            for seed in cluster.seeds {
                do {
                    return try RedisConnection(
                        url: cluster.node(host: seed.host, port: seed.port), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                } catch {
                    reasons.append("\(seed): \(error.message)")
                }
            }
            throw RedisError(.connection, "redis-cluster: no seed node reachable (\(reasons.joined(separator: "; ")))")
        case .sentinel(let sentinel):
            let primary = try askSentinels(sentinel, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            let connection = try RedisConnection(url: primary, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            let role = try connection.command([Array("ROLE".utf8)])
            guard case .array(let parts) = role, parts.first?.text == "master" else {
                throw RedisError(
                    .connection,
                    "redis-sentinel: \(primary) is not the primary of '\(sentinel.primaryName)' (ROLE \(role)); a failover is under way")
            }
            let previous = current.withLock { last -> RedisURL? in
                defer { last = primary }
                return last
            }
            if previous != primary {
                logger.notice(
                    "redis primary located",
                    metadata: ["primary": "\(primary)", "name": "\(sentinel.primaryName)", "previous": "\(previous.map { "\($0)" } ?? "none")"])
            }
            return connection
        }
    }

    /// The primary's address from the first sentinel that knows it; one line
    /// saying what every sentinel answered when none does.
    private func askSentinels(
        _ sentinel: RedisSentinelURL, connectTimeout: Duration, commandTimeout: Duration
    ) throws(RedisError) -> RedisURL {
        var answers: [String] = []
        var unknown = 0
        for node in sentinel.sentinels {
            do {
                var connection = try RedisConnection(
                    url: sentinel.url(of: node, withCredentials: false), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                let ask = ["SENTINEL", "get-master-addr-by-name", sentinel.primaryName].map { Array($0.utf8) }
                var reply = try connection.command(ask)
                if case .error(let text) = reply, text.hasPrefix("NOAUTH"), sentinel.password != nil {
                    // A sentinel with a password of its own: try the primary's credentials.
                    connection = try RedisConnection(
                        url: sentinel.url(of: node, withCredentials: true), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                    reply = try connection.command(ask)
                }
                switch reply {
                case .array(let parts) where parts.count == 2:
                    if let host = parts[0].text, let port = parts[1].text.flatMap(Int.init) {
                        return sentinel.primary(host: host, port: port)
                    }
                    answers.append("\(node): \(reply)")
                case .null, .array:
                    unknown += 1
                    answers.append("\(node): no primary named '\(sentinel.primaryName)'")
                case .error(let text):
                    answers.append("\(node): \(text)")
                default:
                    answers.append("\(node): \(reply)")
                }
            } catch {
                answers.append("\(node): \(error.message)")
            }
        }
        let summary = unknown == sentinel.sentinels.count
            ? "no sentinel knows a primary named '\(sentinel.primaryName)'"
            : "no sentinel named the primary '\(sentinel.primaryName)'"
        throw RedisError(.connection, "redis-sentinel: \(summary) (\(answers.joined(separator: "; ")))")
    }
}
