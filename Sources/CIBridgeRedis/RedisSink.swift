import CIBridgeOutbox
import CIBridgeSinks
import Dispatch
import Logging
import Synchronization

/// Publishes one outbox sink's records to Redis streams.
///
/// Each batch from the outbox goes out as one pipeline of script calls (see
/// ``RedisStreamScript``): a record is acknowledged in the outbox only after
/// Redis answered with its new stream entry, or said it was a duplicate within
/// the dedupe window. Retriable failures (connection loss, timeouts, `LOADING`,
/// `BUSY`, `OOM`, …) go back to the outbox with backoff; `WRONGTYPE` at the
/// stream key goes to the dead-letter log with Redis's reason. Every outcome
/// goes through ``Outbox/resolve(_:_:_:)``.
public final class RedisSink: Sink {
    public let configuration: RedisSinkConfiguration
    public let outbox: Outbox
    let logger: Logger
    let publishers: [any RedisLane]
    /// The slot map, for a `redis-cluster://` target.
    let topology: RedisClusterTopology?
    let health: RedisHealth
    let locator: RedisPrimaryLocator

    public var name: String { configuration.sinkName }

    /// Whether the sink's last attempt reached Redis.
    public var isConnected: Bool { health.isConnected }

    /// The server last connected to (under Sentinel, the primary it named;
    /// in a cluster, its primaries).
    public var endpoint: String? {
        if let topology {
            let primaries = topology.primaries
            return primaries.isEmpty ? nil : "redis-cluster: " + primaries.joined(separator: ",")
        }
        return locator.currentServer?.description
    }

    public init(outbox: Outbox, configuration: RedisSinkConfiguration, logger: Logger) throws(RedisError) {
        try configuration.validate()
        self.outbox = outbox
        self.configuration = configuration
        self.logger = logger
        let sinkName = configuration.sinkName
        let health = RedisHealth(logger: logger, onRecovery: { outbox.expediteRetries(sinkName) })
        self.health = health
        let locator = RedisPrimaryLocator(target: configuration.target, logger: logger)
        self.locator = locator
        if case .cluster(let cluster) = configuration.target {
            let topology = RedisClusterTopology(cluster: cluster, logger: logger)
            self.topology = topology
            self.publishers = (0..<configuration.connections).map { _ in
                RedisClusterPublisher(configuration: configuration, topology: topology, locator: locator, health: health)
            }
        } else {
            self.topology = nil
            self.publishers = (0..<configuration.connections).map { _ in
                RedisPublisher(configuration: configuration, locator: locator, health: health)
            }
        }
    }

    /// Publishes until the task is cancelled or the outbox closes.
    ///
    /// Each connection is a lane with its own task and queue; a batch from the
    /// outbox is split over the lanes by key and the loop goes on to the next
    /// batch while Redis works, so preparing and publishing overlap. A lane
    /// keeps up to two pipelines in flight on its connection when it has the
    /// work (Redis runs one while the lane reads the other's replies and writes
    /// the next), and sends its parts in order, so records of one key keep their order.
    public func run() async throws {
        logger.info("redis sink started", metadata: ["url": "\(configuration.target)", "connections": "\(publishers.count)"])
        let lanes = publishers.map { _ in RedisLaneQueue() }
        // While Redis is unreachable, records wait for their retries, which after a
        // long outage are up to a minute apart: probe instead, and make them all
        // due the moment a connection succeeds (RedisHealth's onRecovery).
        let probe = Task { [health, configuration, locator, topology] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                if !health.isConnected, await Self.probe(configuration, locator: locator, topology: topology) {
                    health.connected(locator)
                }
            }
        }
        defer { probe.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (publisher, lane) in zip(publishers, lanes) {
                group.addTask {
                    var inFlight: [RedisSent] = []
                    while true {
                        // A new pipeline: wait for work only when nothing is in flight.
                        if inFlight.count < 2, let part = inFlight.isEmpty ? await lane.next() : lane.poll() {
                            inFlight.append(await publisher.send(part))
                            continue
                        }
                        guard !inFlight.isEmpty else { break }
                        let sent = inFlight.removeFirst()
                        let outcomes = await publisher.receive(sent)
                        self.outbox.resolve(self.name, zip(sent.records.lazy.map(\.sequence), outcomes).lazy.map { ($0, $1) })
                    }
                    await publisher.disconnect()
                }
            }
            do {
                for try await batch in outbox.batches(for: configuration.sinkName, limit: configuration.batchSize) {
                    var parts = Array(repeating: [OutboxRecord](), count: lanes.count)
                    for record in batch { parts[Self.lane(of: record.key, count: lanes.count)].append(record) }
                    for (lane, part) in zip(lanes, parts) where !part.isEmpty { lane.push(part) }
                    if Task.isCancelled { break }
                }
            } catch {
                logger.error("redis sink stopped", metadata: ["error": "\(error)"])
            }
            for lane in lanes { lane.finish() }
            try await group.waitForAll()
        }
        logger.info("redis sink stopped")
    }

    private static let probeQueue = DispatchQueue(label: "cibridge.redis.probe")

    /// Whether a new connection to Redis answers `PING`. A connection of its
    /// own: the lanes' connections may have pipelines in flight.
    /// In a cluster: whether a node gives the slot map.
    static func probe(_ configuration: RedisSinkConfiguration, locator: RedisPrimaryLocator, topology: RedisClusterTopology?) async -> Bool {
        await withCheckedContinuation { continuation in
            probeQueue.async {
                if let topology {
                    let answered = (try? topology.refresh(
                        connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout, force: true)) != nil
                    continuation.resume(returning: answered)
                    return
                }
                // A failed connect or PING is the answer "not yet", not an error to report.
                let connection = try? locator.connect(
                    connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
                let reply = try? connection?.command([Array("PING".utf8)])
                if case .status = reply { continuation.resume(returning: true) } else { continuation.resume(returning: false) }
            }
        }
    }

    /// The lane of a key: FNV-1a of its bytes, stable across runs.
    static func lane(of key: String, count: Int) -> Int {
        guard count > 1 else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Int(hash % UInt64(count))
    }
}
