import Foundation

/// A Redis Cluster of real `redis-server` processes on loopback: 3 primaries
/// with a replica each by default, made with `redis-cli --cluster create`.
/// Each node's cluster bus port is chosen free too (`--cluster-port`), and a
/// failed primary is noticed after 1 s (`cluster-node-timeout`).
public final class RedisClusterSet {
    public let nodes: [RedisServer]

    public init(primaries: Int = 3, replicasEach: Int = 1) throws {
        nodes = try (0..<(primaries * (1 + replicasEach))).map { _ in
            try RedisServer([
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
                "--cluster-port", String(RedisServer.freePort()), "--repl-diskless-sync-delay", "0",
            ])
        }
        let create = try ChildProcess.run(
            "/usr/bin/redis-cli",
            ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", String(replicasEach), "--cluster-yes"],
            timeout: 60)
        guard create.status == 0 else {
            throw NSError(domain: "RedisClusterSet", code: 1, userInfo: [NSLocalizedDescriptionKey: "cluster create: \(create.stdout) \(create.stderr)"])
        }
        guard waitUntilHealthy(seconds: 30) else {
            throw NSError(domain: "RedisClusterSet", code: 2, userInfo: [NSLocalizedDescriptionKey: "the cluster did not become ok"])
        }
    }

    deinit { stop() }

    /// `redis-cluster://` with every node as a seed.
    public var url: String { "redis-cluster://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// Whether every running node says `cluster_state:ok` and all its replicas are in sync, within `seconds`.
    public func waitUntilHealthy(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let states = nodes.map { (try? $0.cli(["CLUSTER", "INFO"])) ?? "" }
            if states.allSatisfy({ $0.contains("cluster_state:ok") }) { return true }
            usleep(100_000)
        }
        return false
    }

    /// The nodes that are primaries now (`ROLE`).
    public func primaries() -> [RedisServer] {
        nodes.filter { (try? $0.cli(["ROLE"]))?.hasPrefix("master") == true }
    }

    /// The primary that serves `key` now, from each primary's own slot ranges (`CLUSTER NODES`, its `myself` line).
    public func owner(of key: String) throws -> RedisServer? {
        guard let slot = Int(try nodes[0].cli(["CLUSTER", "KEYSLOT", key])) else { return nil }
        for node in primaries() {
            let myself = ((try? node.cli(["CLUSTER", "NODES"])) ?? "").split(separator: "\n").first { $0.contains("myself") } ?? ""
            for range in myself.split(separator: " ").dropFirst(8) where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                guard let low = bounds.first else { continue }
                if slot >= low && slot <= (bounds.count > 1 ? bounds[1] : low) { return node }
            }
        }
        return nil
    }

    /// A node's cluster id.
    public func id(of node: RedisServer) throws -> String {
        try node.cli(["CLUSTER", "MYID"])
    }

    public func stop() {
        for node in nodes { node.stop() }
    }
}
