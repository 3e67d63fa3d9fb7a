import CIBridgeOutbox
import CIBridgeSinks

/// The commands that publish records (``RedisStreamScript`` called with
/// `EVALSHA`, then `WAIT` when `minReplicas` asks for it) and what their
/// replies mean: shared by the one-server and the cluster publishers.
enum RedisScriptCall {
    /// The attributes each stream entry carries as fields besides the envelope.
    static let entryFields = ["id", "type", "subject", "state", "tag", "time"]

    /// One `EVALSHA` publishing `records` (all of whose keys share a slot in a cluster).
    static func command(_ records: ArraySlice<OutboxRecord>, sha: [UInt8], configuration: RedisSinkConfiguration) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var arguments: [[UInt8]] = [
            Array(String(configuration.dedupeSeconds).utf8), Array(String(configuration.maxLength).utf8),
            Array(String(configuration.streamsPerRecord).utf8), Array((configuration.minReplicas > 0 ? "1" : "0").utf8),
        ]
        for record in records {
            let envelope = RecordEnvelope(record)
            let id = envelope["id"] ?? "seq-\(record.sequence)"
            let names = configuration.keys(
                id: id, attribute: { name in name == "partitionkey" ? record.key : envelope[name] }, partitionKey: record.key)
            for name in names { keys.append(Array(name.utf8)) }
            arguments.append(record.payload)
            for name in entryFields { arguments.append(Array((envelope[name] ?? "").utf8)) }
            // W3C Trace Context, stored with the record (not in the envelope); empty when none.
            arguments.append(Array((envelope.traceparent ?? "").utf8))
            arguments.append(Array((envelope.tracestate ?? "").utf8))
        }
        return [Array("EVALSHA".utf8), sha, Array(String(keys.count).utf8)] + keys + arguments
    }

    /// Loads ``RedisStreamScript`` on the server of `connection`; its SHA (the same on every server).
    static func load(_ connection: RedisConnection) throws(RedisError) -> [UInt8] {
        let reply = try connection.command([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(RedisStreamScript.source.utf8)])
        switch reply {
        case .bulk(let sha): return sha
        case .error(let text): throw RedisError(.reply, text)
        default: throw RedisError(.protocolError, "SCRIPT LOAD answered \(reply)")
        }
    }

    /// `WAIT <minReplicas> <timeout ms>`, or `nil` when no replica is asked for.
    static func wait(_ configuration: RedisSinkConfiguration) -> [[UInt8]]? {
        guard configuration.minReplicas > 0 else { return nil }
        let (seconds, attoseconds) = configuration.replicaTimeout.components
        let milliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        return ["WAIT", String(configuration.minReplicas), String(milliseconds)].map { Array($0.utf8) }
    }

    /// `outcomes` with every success turned into a retry when `waitReply`
    /// (the `WAIT` that followed them) counts fewer replicas than asked for.
    static func holdBack(
        _ outcomes: [DeliveryOutcome], waitReply: RedisReply?, configuration: RedisSinkConfiguration
    ) -> [DeliveryOutcome] {
        guard configuration.minReplicas > 0 else { return outcomes }
        let error: RedisError
        switch waitReply {
        case .integer(let confirmed)? where confirmed >= configuration.minReplicas:
            return outcomes
        case .integer(let confirmed)?:
            error = RedisError(
                .replication,
                "\(confirmed) of \(configuration.minReplicas) replicas confirmed the write within \(configuration.replicaTimeout)")
        default:
            error = RedisError(.protocolError, "WAIT answered \(waitReply.map { "\($0)" } ?? "nothing")")
        }
        return outcomes.map { outcome in
            switch outcome {
            case .delivered, .duplicate: error.outcome
            default: outcome
            }
        }
    }
}
