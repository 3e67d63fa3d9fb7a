import CIBridgeCore
import CIBridgeOutbox
import CIBridgeSinks
import Dispatch
import Logging
import Synchronization

/// Publishes records over one Redis connection, on a dispatch queue of its own
/// (hiredis blocks; the cooperative pool never does). Reconnects with backoff
/// after any connection failure; ``RedisHealth`` logs the state changes.
final class RedisPublisher: RedisLane {
    private let configuration: RedisSinkConfiguration
    private let locator: RedisPrimaryLocator
    private let health: RedisHealth
    private let queue = DispatchQueue(label: "cibridge.redis.io")
    /// Taken only on ``queue``, which is serial, so it is never contended and
    /// may be held across hiredis calls: it exists to make the connection's
    /// confinement to that queue something the compiler checks (`Sendable`),
    /// not to serialise threads.
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var connection: RedisConnection?
        /// Bumped with every new connection: replies are read only from the connection a pipeline went out on.
        var generation = 0
        var scriptSHA: [UInt8]?
        var nextAttempt: ContinuousClock.Instant?
        var backoff: Duration = .milliseconds(100)
        var lastError: RedisError?
    }

    init(configuration: RedisSinkConfiguration, locator: RedisPrimaryLocator, health: RedisHealth) {
        self.configuration = configuration
        self.locator = locator
        self.health = health
        self.state = Mutex(State())
    }


    /// Writes `records` as one pipeline without waiting for the replies, so that
    /// Redis works on it while the next one is prepared. Read the outcomes with
    /// ``receive(_:)``, in the order the pipelines were sent.
    func send(_ records: [OutboxRecord]) async -> RedisSent {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.sendBlocking(records)) }
        }
    }

    /// The outcomes of a pipeline from ``send(_:)``: one per record, in order.
    func receive(_ sent: RedisSent) async -> [DeliveryOutcome] {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.receiveBlocking(sent)) }
        }
    }

    /// Drops the connection (used at shutdown).
    func disconnect() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.state.withLock { $0.connection = nil }
                continuation.resume()
            }
        }
    }

    private func sendBlocking(_ records: [OutboxRecord]) -> RedisSent {
        state.withLock { s -> RedisSent in
            do throws(RedisError) {
                let connection = try connected(&s)
                if s.scriptSHA == nil { s.scriptSHA = try RedisScriptCall.load(connection) }
                let (commands, groups) = commands(for: records, sha: s.scriptSHA!)
                try connection.send(commands)
                return RedisSent(records: records, groups: groups, generation: s.generation)
            } catch {
                fail(&s, error)
                return RedisSent(records: records, generation: s.generation, failure: error)
            }
        }
    }

    private func receiveBlocking(_ sent: RedisSent) -> [DeliveryOutcome] {
        state.withLock { s -> [DeliveryOutcome] in
            if let failure = sent.failure { return sent.records.map { _ in failure.outcome } }
            // The connection it went out on broke since: whether Redis ran it is unknown,
            // so it is retried (the dedupe key makes a second run harmless).
            guard let connection = s.connection, s.generation == sent.generation else {
                let error = s.lastError ?? RedisError(.connection, "redis connection lost before the replies were read")
                return sent.records.map { _ in error.outcome }
            }
            do throws(RedisError) {
                let replies = try connection.receive(sent.groups.count + (configuration.minReplicas > 0 ? 1 : 0))
                var outcomes = self.outcomes(replies, groups: sent.groups, count: sent.records.count)
                // The script cache was flushed (restart, SCRIPT FLUSH): load it again and resend those.
                // With a second pipeline in flight, SCRIPT LOAD reads that pipeline's reply (an
                // array or an error, never the bulk SHA), so `load` throws: the connection is
                // dropped and both pipelines are retried, as after any connection failure.
                // A replica now (`READONLY`: a failover demoted the primary), or, under
                // Sentinel, a primary whose replicas no longer confirm (it may be cut off
                // and replaced): drop the connection, so that the next one asks the
                // sentinels which server is the primary.
                let sentinel: Bool = if case .sentinel = configuration.target { true } else { false }
                if let failure = outcomes.lazy.compactMap({ outcome -> DeliveryFailure? in
                    guard case .retry(let failure) = outcome else { return nil }
                    return failure.code == "READONLY" || (sentinel && failure.code == "replication") ? failure : nil
                }).first {
                    if failure.code == "READONLY" {
                        fail(&s, RedisError(.reply, failure.message))
                    } else {
                        // Not an outage of Redis (the records say why they wait): no log line, no probe.
                        s.connection = nil
                    }
                    return outcomes
                }
                if outcomes.contains(where: { if case .retry(let failure) = $0 { failure.code == "NOSCRIPT" } else { false } }) {
                    s.scriptSHA = try RedisScriptCall.load(connection)
                    let (commands, groups) = commands(for: sent.records, sha: s.scriptSHA!)
                    outcomes = self.outcomes(try connection.pipeline(commands), groups: groups, count: sent.records.count)
                }
                return outcomes
            } catch {
                fail(&s, error)
                return sent.records.map { _ in error.outcome }
            }
        }
    }

    private func fail(_ s: inout State, _ error: RedisError) {
        health.failed(error)
        s.connection = nil
        s.lastError = error
    }

    /// A lane's reconnection attempts back off from 100 ms to this (a refused
    /// connect costs next to nothing). The sink's own probe, every 250 ms,
    /// usually notices first that Redis is back, and then lanes retry at once.
    static let maximumBackoff: Duration = .seconds(1)

    /// The open connection, or a new one when backoff allows.
    private func connected(_ s: inout State) throws(RedisError) -> RedisConnection {
        if let connection = s.connection { return connection }
        // Within the backoff, try again only if another connection has reached
        // Redis since: then it is back, and this lane need not sit out its backoff.
        if let next = s.nextAttempt, ContinuousClock.now < next, !health.isConnected, let last = s.lastError {
            throw last
        }
        do {
            let connection = try locator.connect(connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
            s.connection = connection
            s.generation += 1
            s.scriptSHA = nil
            s.backoff = .milliseconds(100)
            s.nextAttempt = nil
            health.connected(locator)
            s.lastError = nil
            return connection
        } catch {
            s.nextAttempt = ContinuousClock.now + s.backoff
            s.backoff = min(s.backoff * 2, Self.maximumBackoff)
            throw error
        }
    }


    /// One `EVALSHA` per `recordsPerCall` records, and which records each
    /// covers; then, with `minReplicas`, the `WAIT`.
    private func commands(for records: [OutboxRecord], sha: [UInt8]) -> ([[[UInt8]]], [Range<Int>]) {
        var commands: [[[UInt8]]] = []
        var groups: [Range<Int>] = []
        var start = 0
        while start < records.count {
            let end = min(start + configuration.recordsPerCall, records.count)
            commands.append(RedisScriptCall.command(records[start..<end], sha: sha, configuration: configuration))
            groups.append(start..<end)
            start = end
        }
        // Last in the pipeline: it covers every write above (and, through the
        // touched dedupe keys, the first copies of duplicates).
        if let wait = RedisScriptCall.wait(configuration) { commands.append(wait) }
        return (commands, groups)
    }

    /// The outcomes of a pipeline's replies: the scripts' per record, then, with
    /// `minReplicas`, the `WAIT` reply, which holds back every success when too
    /// few replicas confirmed.
    private func outcomes(_ replies: [RedisReply], groups: [Range<Int>], count: Int) -> [DeliveryOutcome] {
        let outcomes = Self.outcomes(replies, groups: groups, count: count)
        guard configuration.minReplicas > 0 else { return outcomes }
        return RedisScriptCall.holdBack(outcomes, waitReply: replies.count > groups.count ? replies[groups.count] : nil, configuration: configuration)
    }

    /// One outcome per record from the replies of its pipeline.
    static func outcomes(_ replies: [RedisReply], groups: [Range<Int>], count: Int) -> [DeliveryOutcome] {
        var outcomes: [DeliveryOutcome] = []
        outcomes.reserveCapacity(count)
        for (reply, group) in zip(replies, groups) {
            switch reply {
            case .array(let results) where results.count == group.count:
                for result in results {
                    switch result {
                    case .integer(0): outcomes.append(.duplicate)
                    case .bulk(let bytes) where bytes.first == UInt8(ascii: "!"):
                        outcomes.append(RedisError(.reply, String(decoding: bytes.dropFirst(), as: UTF8.self)).outcome)
                    case .bulk, .status: outcomes.append(.delivered)
                    default: outcomes.append(RedisError(.protocolError, "unexpected script result \(result)").outcome)
                    }
                }
            case .error(let text):
                outcomes += group.map { _ in RedisError(.reply, text).outcome }
            default:
                outcomes += group.map { _ in RedisError(.protocolError, "unexpected reply \(reply)").outcome }
            }
        }
        return outcomes
    }
}
