import Foundation

/// A primary, its replicas and three sentinels watching them, as real
/// `redis-server` processes on loopback (sentinels are `redis-server
/// --sentinel`, which is what Debian's `redis-sentinel` runs). Failover is
/// quick: a primary is judged down after 1 s.
public final class RedisSentinelSet {
    public let primaryName = "ci-primary"
    /// The servers, in start order; after a failover either can be the primary.
    public let servers: [RedisServer]
    public let sentinelPorts: [Int]
    private let temporary: TemporaryDirectory
    private var sentinels: [ChildProcess] = []

    /// - Parameter replicas: how many replicas the primary has (1 or more).
    public init(replicas: Int = 1) throws {
        // No 5 s wait before the first full sync (Redis's default, for more replicas to join).
        let primary = try RedisServer(["--repl-diskless-sync-delay", "0"])
        let copies = try (0..<replicas).map { _ in
            try RedisServer(["--replicaof", "127.0.0.1", String(primary.port), "--repl-diskless-sync-delay", "0"])
        }
        servers = [primary] + copies
        temporary = try TemporaryDirectory("sentinels")
        sentinelPorts = (0..<3).map { _ in RedisServer.freePort() }
        for (index, port) in sentinelPorts.enumerated() {
            let directory = temporary.path + "/\(index)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let configuration = """
                port \(port)
                bind 127.0.0.1
                daemonize no
                dir \(directory)
                logfile \(directory)/sentinel.log
                sentinel monitor \(primaryName) 127.0.0.1 \(primary.port) 2
                sentinel down-after-milliseconds \(primaryName) 1000
                sentinel failover-timeout \(primaryName) 4000
                sentinel parallel-syncs \(primaryName) 1

                """
            // Sentinel rewrites its configuration file: it must be writable.
            try configuration.write(toFile: directory + "/sentinel.conf", atomically: true, encoding: .utf8)
            sentinels.append(try ChildProcess("/usr/bin/redis-server", [directory + "/sentinel.conf", "--sentinel"]))
        }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            // Known to the sentinels, and in sync: a replica still loading its first copy has nothing to lose.
            if (try? primaryPort()) == primary.port, (try? replicasKnown(replicas)) == true,
                copies.allSatisfy({ (try? $0.cli(["INFO", "replication"]))?.contains("master_link_status:up") == true })
            {
                return
            }
            usleep(100_000)
        }
        throw NSError(domain: "RedisSentinelSet", code: 1, userInfo: [NSLocalizedDescriptionKey: "sentinels did not see the primary and its replica"])
    }

    deinit { stop() }

    /// `redis-sentinel://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c/<name>`.
    public var url: String {
        "redis-sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/" + primaryName
    }

    /// The primary's port as the first sentinel reports it.
    public func primaryPort() throws -> Int? {
        let reply = try RedisServer.cli(port: sentinelPorts[0], ["SENTINEL", "get-master-addr-by-name", primaryName])
        return reply.split(separator: "\n").last.flatMap { Int($0) }
    }

    /// The server that is primary now.
    public func primary() throws -> RedisServer? {
        let port = try primaryPort()
        return servers.first { $0.port == port }
    }

    private func replicasKnown(_ count: Int) throws -> Bool {
        try RedisServer.cli(port: sentinelPorts[0], ["SENTINEL", "replicas", primaryName]).components(separatedBy: "slave").count - 1
            >= count
    }

    /// Waits until the sentinels name a primary other than `port`, and it answers as a primary.
    public func waitForFailover(from port: Int, seconds: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let now = try? primaryPort(), now != port, let server = servers.first(where: { $0.port == now }),
                (try? server.cli(["ROLE"]))?.hasPrefix("master") == true
            {
                return true
            }
            usleep(100_000)
        }
        return false
    }

    public func stop() {
        for sentinel in sentinels { sentinel.kill() }
        sentinels = []
        for server in servers { server.stop() }
        temporary.remove()
    }
}
