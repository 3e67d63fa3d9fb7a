import Logging
import Synchronization

/// Which primary serves each of a Redis Cluster's 16 384 slots, read with
/// `CLUSTER SLOTS` from any node that answers (the seeds first, then every
/// node of the last map). Shared by the sink's lanes; refreshed after a
/// `MOVED` reply or a lost node, at most once per 100 ms, and logged in one
/// line when it changes.
final class RedisClusterTopology: Sendable {
    /// A primary, as `host:port`.
    typealias Node = String

    private struct Map: Sendable {
        /// The node of every slot; empty until the first refresh.
        var slots: [Node?] = []
        var refreshed: ContinuousClock.Instant?
    }

    private let cluster: RedisClusterURL
    private let logger: Logger
    private let map = Mutex(Map())

    init(cluster: RedisClusterURL, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
    }

    /// The primary of `slot`, reading the map first if there is none.
    func node(of slot: Int, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) -> Node {
        if let node = map.withLock({ $0.slots.isEmpty ? nil : $0.slots[slot] }) { return node }
        try refresh(connectTimeout: connectTimeout, commandTimeout: commandTimeout, force: true)
        guard let node = map.withLock({ $0.slots.isEmpty ? nil : $0.slots[slot] }) else {
            throw RedisError(.reply, "CLUSTERDOWN slot \(slot) is served by no node (redis-cluster)")
        }
        return node
    }

    /// The URL of `node` with the cluster's credentials.
    func url(of node: Node) -> RedisURL {
        let colon = node.lastIndex(of: ":")!
        return cluster.node(host: String(node[..<colon]), port: Int(node[node.index(after: colon)...]) ?? 6379)
    }

    /// The distinct primaries of the last map, for status.
    var primaries: [Node] { map.withLock { Array(Set($0.slots.compactMap { $0 })).sorted() } }

    /// Reads the slot map again (not more often than every 100 ms unless `force`).
    func refresh(connectTimeout: Duration, commandTimeout: Duration, force: Bool = false) throws(RedisError) {
        let (known, recent) = map.withLock { m in
            (Array(Set(m.slots.compactMap { $0 })), m.refreshed.map { ContinuousClock.now - $0 < .milliseconds(100) } ?? false)
        }
        if recent && !force { return }
        var reasons: [String] = []
        let candidates = cluster.seeds.map(\.description) + known.filter { node in !cluster.seeds.contains { $0.description == node } }
        for candidate in candidates {
            do {
                let connection = try RedisConnection(url: url(of: candidate), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                let reply = try connection.command([Array("CLUSTER".utf8), Array("SLOTS".utf8)])
                guard case .array(let ranges) = reply else {
                    if case .error(let text) = reply {
                        reasons.append("\(candidate): \(text)")
                    } else {
                        reasons.append("\(candidate): \(reply)")
                    }
                    continue
                }
                var slots = [Node?](repeating: nil, count: RedisClusterSlot.count)
                for range in ranges {
                    guard case .array(let parts) = range, parts.count >= 3, case .integer(let first) = parts[0],
                        case .integer(let last) = parts[1], case .array(let primary) = parts[2], primary.count >= 2,
                        let host = primary[0].text, case .integer(let port) = primary[1], first >= 0, last < RedisClusterSlot.count
                    else { continue }
                    // An empty host means "the node you asked".
                    let name = (host.isEmpty ? String(candidate[..<candidate.lastIndex(of: ":")!]) : host) + ":\(port)"
                    for slot in Int(first)...Int(last) { slots[slot] = name }
                }
                let changed = map.withLock { m -> Bool in
                    defer {
                        m.slots = slots
                        m.refreshed = .now
                    }
                    return m.slots != slots
                }
                if changed {
                    let nodes = Set(slots.compactMap { $0 }).sorted()
                    logger.notice(
                        "redis cluster slot map",
                        metadata: ["primaries": "\(nodes.joined(separator: ","))", "unserved_slots": "\(slots.filter { $0 == nil }.count)"])
                }
                return
            } catch {
                reasons.append("\(candidate): \(error.message)")
            }
        }
        throw RedisError(.connection, "redis-cluster: no node gave the slot map (\(reasons.joined(separator: "; ")))")
    }
}
