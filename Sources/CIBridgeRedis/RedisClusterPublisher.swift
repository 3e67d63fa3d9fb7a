import CIBridgeCore
import CIBridgeOutbox
import Dispatch
import Synchronization

/// A lane that publishes to a Redis Cluster: each record's keys (its dedupe
/// key and topic shard stream, hash-tagged `{n}`) share the slot of its shard,
/// so the records of one shard go in script calls to the primary of that slot.
/// A batch is sent as one pipeline per primary, all written before any reply
/// is read. Redirections follow the cluster specification:
/// - `MOVED`: the slot map is read again; the records are retried (from the
///   outbox, in order: later records of the same key wait for them);
/// - `ASK` (a slot being migrated): the call is sent at once to the node
///   named, after `ASKING`;
/// - `TRYAGAIN`, `CLUSTERDOWN` and a lost node: retried, with the map read
///   again after a lost node.
final class RedisClusterPublisher: RedisLane {
    private let configuration: RedisSinkConfiguration
    private let topology: RedisClusterTopology
    private let locator: RedisPrimaryLocator
    private let health: RedisHealth
    private let queue = DispatchQueue(label: "cibridge.redis.cluster.io")
    /// Taken only on ``queue`` (serial): makes the connections' confinement to it
    /// something the compiler checks, as in ``RedisPublisher``.
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var connections: [RedisClusterTopology.Node: RedisConnection] = [:]
        var sha: [UInt8]?
    }

    init(configuration: RedisSinkConfiguration, topology: RedisClusterTopology, locator: RedisPrimaryLocator, health: RedisHealth) {
        self.configuration = configuration
        self.topology = topology
        self.locator = locator
        self.health = health
    }

    func send(_ records: [OutboxRecord]) async -> RedisSent {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: RedisSent(records: records, outcomes: self.publish(records))) }
        }
    }

    func receive(_ sent: RedisSent) async -> [DeliveryOutcome] {
        sent.outcomes ?? sent.records.map { _ in RedisError(.protocolError, "no outcome").outcome }
    }

    func disconnect() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.state.withLock { $0.connections = [:] }
                continuation.resume()
            }
        }
    }

    /// One script call: records of one shard, for the primary of its slot.
    private struct Call {
        let indices: [Int]
        let command: [[UInt8]]
        let node: RedisClusterTopology.Node
    }

    private func publish(_ records: [OutboxRecord]) -> [DeliveryOutcome] {
        state.withLock { s -> [DeliveryOutcome] in
            var outcomes = [DeliveryOutcome?](repeating: nil, count: records.count)
            func fail(_ indices: [Int], _ error: RedisError) {
                for index in indices where outcomes[index] == nil { outcomes[index] = error.outcome }
            }
            let timeouts = (configuration.connectTimeout, configuration.commandTimeout)
            // Calls by shard, in record order within each.
            var byShard: [Int: [Int]] = [:]
            var order: [Int] = []
            for (index, record) in records.enumerated() {
                let shard = TopicShard.of(partitionKey: record.key.utf8, count: configuration.shards)
                if byShard[shard] == nil { order.append(shard) }
                byShard[shard, default: []].append(index)
            }
            var calls: [Call] = []
            do throws(RedisError) {
                let sha: [UInt8]
                if let known = s.sha {
                    sha = known
                } else {
                    let node = try topology.node(of: 0, connectTimeout: timeouts.0, commandTimeout: timeouts.1)
                    sha = try loadScript(&s, anyNode: node)
                    s.sha = sha
                }
                for shard in order {
                    let indices = byShard[shard]!
                    let node = try topology.node(
                        of: RedisClusterSlot.of(Array(String(shard).utf8)), connectTimeout: timeouts.0, commandTimeout: timeouts.1)
                    var start = 0
                    while start < indices.count {
                        let part = Array(indices[start..<min(start + configuration.recordsPerCall, indices.count)])
                        let command = RedisScriptCall.command(ArraySlice(part.map { records[$0] }), sha: sha, configuration: configuration)
                        calls.append(Call(indices: part, command: command, node: node))
                        start += part.count
                    }
                }
            } catch {
                health.failed(error)
                fail(Array(records.indices), error)
                return outcomes.map { $0! }
            }

            // One pipeline per primary: all written, then all read.
            let callsByNode = Dictionary(grouping: calls, by: \.node)
            let nodes = callsByNode.keys.sorted()
            var written: [RedisClusterTopology.Node: RedisConnection] = [:]
            var refresh = false
            for node in nodes {
                let mine = callsByNode[node]!
                do throws(RedisError) {
                    let connection = try connection(&s, node)
                    try connection.send(mine.map(\.command) + (RedisScriptCall.wait(configuration).map { [$0] } ?? []))
                    written[node] = connection
                } catch {
                    s.connections[node] = nil
                    refresh = true
                    health.failed(error)
                    fail(mine.flatMap(\.indices), error)
                }
            }
            for node in nodes {
                guard let connection = written[node] else { continue }
                let mine = callsByNode[node]!
                let replies: [RedisReply]
                do throws(RedisError) {
                    replies = try connection.receive(mine.count + (configuration.minReplicas > 0 ? 1 : 0))
                } catch {
                    s.connections[node] = nil
                    refresh = true
                    health.failed(error)
                    fail(mine.flatMap(\.indices), error)
                    continue
                }
                health.connected(locator)
                var nodeOutcomes: [(indices: [Int], outcomes: [DeliveryOutcome])] = []
                for (call, reply) in zip(mine, replies) {
                    var reply = reply
                    if case .error(let text) = reply, text.hasPrefix("NOSCRIPT") {
                        // A node that restarted or was added: load the script there and call again.
                        reply = (try? loadScript(&s, anyNode: node)).flatMap { _ in try? connection.command(call.command) } ?? reply
                    }
                    if case .error(let text) = reply, text.hasPrefix("ASK ") {
                        reply = ask(&s, call: call, redirect: text)
                    }
                    if case .error(let text) = reply, text.hasPrefix("MOVED ") {
                        refresh = true
                    }
                    let result = RedisPublisher.outcomes([reply], groups: [0..<call.indices.count], count: call.indices.count)
                    nodeOutcomes.append((call.indices, result))
                }
                let waitReply = configuration.minReplicas > 0 ? replies.last : nil
                for (indices, result) in nodeOutcomes {
                    let held = RedisScriptCall.holdBack(result, waitReply: waitReply, configuration: configuration)
                    for (index, outcome) in zip(indices, held) { outcomes[index] = outcome }
                }
            }
            if refresh {
                try? topology.refresh(connectTimeout: timeouts.0, commandTimeout: timeouts.1)
            }
            return outcomes.map { $0 ?? RedisError(.protocolError, "no reply for a record").outcome }
        }
    }

    /// The call sent again to the node an `ASK` redirection names, after `ASKING`.
    private func ask(_ s: inout State, call: Call, redirect: String) -> RedisReply {
        // "ASK <slot> <host>:<port>"
        let parts = redirect.split(separator: " ")
        guard parts.count >= 3 else { return .error(redirect) }
        let node = String(parts[2])
        do throws(RedisError) {
            let connection = try connection(&s, node)
            let replies = try connection.pipeline([[Array("ASKING".utf8)], call.command])
            return replies.count == 2 ? replies[1] : .error(redirect)
        } catch {
            s.connections[node] = nil
            return .error("ASK \(error.message)")
        }
    }

    /// The open connection to `node`, or a new one with the script loaded.
    private func connection(_ s: inout State, _ node: RedisClusterTopology.Node) throws(RedisError) -> RedisConnection {
        if let connection = s.connections[node] { return connection }
        let connection = try RedisConnection(
            url: topology.url(of: node), connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
        s.connections[node] = connection
        _ = try RedisScriptCall.load(connection)
        return connection
    }

    /// Loads the script on `anyNode` and returns its SHA (the same on every node).
    private func loadScript(_ s: inout State, anyNode: RedisClusterTopology.Node) throws(RedisError) -> [UInt8] {
        try RedisScriptCall.load(try connection(&s, anyNode))
    }

}
