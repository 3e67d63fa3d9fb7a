import ArgumentParser
import CIBridgeCore
import CIBridgeRedis
import Foundation

struct ConsumeRedisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Read envelopes from Redis streams and print them as JSON Lines.",
        discussion: """
            --topic reads every shard stream of a topic (task-finish, workflow-finish, moderation, \
            events): ci:task-finish:0 … ci:task-finish:<shards - 1>. --stream reads the streams you name.

            Without --group it reads with XREAD (nothing is recorded on the server). With --group \
            and --consumer it reads with XREADGROUP, creating the group on every stream where it is \
            missing, prints each batch and only then acknowledges it with XACK. It first re-reads \
            what this consumer was given and never acknowledged (it died), then new entries; and it \
            claims (XAUTOCLAIM) entries another consumer of the group has left pending longer than \
            --claim-idle. A consumer started later with the same group continues where the group \
            left off.
            """
    )

    @Option(help: "redis://[[user]:password@]host[:port][/db] or unix:///path?db=N") var url: String
    @Option(help: "A topic to read across its shards: task-finish, workflow-finish, moderation, events, or a stream name prefix such as ci:task-finish.")
    var topic: String?
    @Option(help: "Shards per topic (redis.shards of the serving cibridge).") var shards = RedisSinkConfiguration.standardShards
    @Option(name: .customLong("stream"), help: "A stream to read (repeatable), e.g. ci:wf:<WorkflowId>.") var streams: [String] = []
    @Option(help: "Consumer group (XREADGROUP + XACK).") var group: String?
    @Option(help: "Consumer name within the group.") var consumer: String?
    @Option(name: .customLong("claim-idle"), help: "With --group: claim entries other consumers left pending this many seconds.")
    var claimIdle: Double = 30
    @Flag(help: "Start at the oldest entry instead of new ones (for a new group: where it starts).") var fromBeginning = false
    @Option(help: "Stop after this many envelopes (with a group, up to one entry per stream may stay read and unprinted: this consumer re-reads it when it starts again).")
    var max: Int?
    @Option(name: .customLong("idle-timeout"), help: "Stop after this many seconds without an entry.") var idleTimeout: Double?
    @Option(help: "Entries read per stream at a time.") var count = 100
    @Flag(help: "Print stream, entry id and trace context on stderr (claimed entries marked).") var verbose = false
    /// For tests: how long to wait between printing a batch and acknowledging
    /// it, so that a consumer can be killed with entries read and not acknowledged.
    @Option(name: .customLong("pause-before-ack"), help: .hidden) var pauseBeforeAck: Double = 0

    func validate() throws {
        guard !streams.isEmpty || topic != nil else { throw ValidationError("give --topic or at least one --stream") }
        guard (group == nil) == (consumer == nil) else { throw ValidationError("--group and --consumer go together") }
        guard (1...RedisSinkConfiguration.maximumShards).contains(shards) else {
            throw ValidationError("--shards: 1 to \(RedisSinkConfiguration.maximumShards)")
        }
        guard count > 0, claimIdle > 0 else {
            throw ValidationError("--count and --claim-idle must be positive (a claim-idle of 0 would take entries live consumers are printing)")
        }
    }

    /// The streams to read: the named ones, then the topic's shards.
    var allStreams: [String] {
        guard let topic else { return streams }
        let base = topic.contains(":") ? topic : "ci:" + topic
        return streams + (0..<shards).map { "\(base):\($0)" }
    }

    func run() throws {
        Interruption.install()
        let connection = try RedisConnection(url: RedisURL(url), commandTimeout: .seconds(10))
        let streams = allStreams
        func call(_ words: [String]) throws -> RedisReply {
            let reply = try connection.command(words.map { Array($0.utf8) })
            if case .error(let text) = reply { throw ValidationFailure("redis: \(words.prefix(2).joined(separator: " ")): \(text)") }
            return reply
        }
        if let topic, case .integer(1) = try call(["EXISTS", allStreams.last!.dropLastShard() + ":\(shards)"]) {
            report("warning: \(topic) has a shard \(shards) in Redis: the serving cibridge may use more than --shards \(shards)")
        }
        if let group {
            for stream in streams {
                let reply = try connection.command(
                    ["XGROUP", "CREATE", stream, group, fromBeginning ? "0" : "$", "MKSTREAM"].map { Array($0.utf8) })
                if case .error(let text) = reply, !text.hasPrefix("BUSYGROUP") {
                    throw ValidationFailure("XGROUP CREATE \(stream) \(group): \(text)")
                }
            }
        }

        var printed = 0
        var lastEntry = Date()
        // XREAD's `$` means "newest at the time of this call": fixed once here, so that
        // what arrives on one stream while another is being read is not skipped.
        var positions = try streams.map { stream -> String in
            if fromBeginning { return "0" }
            let newest = try call(["XREVRANGE", stream, "+", "-", "COUNT", "1"])
            return RedisStreamEntry.fromRange(newest, stream: stream).first?.id ?? "0-0"
        }
        // With a group: this consumer's own unacknowledged entries first ("0"), then new ones (">").
        var ownPendingDone = false
        var nextClaim = Date()
        /// Entries to ask for per stream: no more than --max still allows, spread over the
        /// streams (COUNT is per stream), so that few are read and left unprinted.
        var batch: Int { max.map { Swift.min(count, Swift.max(($0 - printed) / streams.count, 1)) } ?? count }

        /// Prints entries (up to --max), then acknowledges what was printed.
        func deliver(_ entries: [RedisStreamEntry], claimed: Bool) throws {
            var output: [UInt8] = []
            var done: [RedisStreamEntry] = []
            for entry in entries {
                if let max, printed >= max { break }
                if verbose {
                    let trace = entry.traceparent.map { " traceparent \($0)" + (entry.tracestate.map { " tracestate \($0)" } ?? "") } ?? ""
                    report("\(entry.stream) \(entry.id)\(claimed ? " claimed" : "")\(trace)")
                }
                if let envelope = entry.envelope {
                    output += envelope
                    output.append(UInt8(ascii: "\n"))
                    printed += 1
                }
                done.append(entry)
                if let index = streams.firstIndex(of: entry.stream) { positions[index] = entry.id }
            }
            guard writeStandardOutput(output) else {
                // Nothing of this batch is acknowledged: it stays pending for this group.
                throw ValidationFailure("standard output closed or full (\(String(cString: strerror(errno)))); stopped without acknowledging")
            }
            guard let group, !done.isEmpty else { return }
            if pauseBeforeAck > 0 { Thread.sleep(forTimeInterval: pauseBeforeAck) }
            for stream in Set(done.map(\.stream)) {
                _ = try call(["XACK", stream, group] + done.filter { $0.stream == stream }.map(\.id))
            }
        }

        while !Interruption.requested {
            if let max, printed >= max { break }
            var entries: [RedisStreamEntry]
            if let group, let consumer {
                if Date() >= nextClaim {
                    nextClaim = Date().addingTimeInterval(Swift.max(claimIdle / 2, 0.2))
                    // Each shard's whole pending list, a page at a time, up to --max.
                    for stream in streams {
                        var cursor = "0-0"
                        repeat {
                            if let max, printed >= max { break }
                            let reply = try call([
                                "XAUTOCLAIM", stream, group, consumer, String(Int(claimIdle * 1000)), cursor, "COUNT", String(batch),
                            ])
                            let (claimed, next) = RedisStreamEntry.fromClaim(reply, stream: stream)
                            cursor = next
                            if !claimed.isEmpty {
                                lastEntry = Date()
                                try deliver(claimed, claimed: true)
                            }
                        } while cursor != "0-0" && !Interruption.requested
                    }
                }
                let start = ownPendingDone ? ">" : "0"
                let reply = try call(
                    ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(batch)] + (ownPendingDone ? ["BLOCK", "500"] : [])
                        + ["STREAMS"] + streams + streams.map { _ in start })
                entries = RedisStreamEntry.fromRead(reply)
                if !ownPendingDone && entries.isEmpty {
                    ownPendingDone = true
                    continue
                }
            } else {
                let reply = try call(["XREAD", "COUNT", String(batch), "BLOCK", "500", "STREAMS"] + streams + positions)
                entries = RedisStreamEntry.fromRead(reply)
            }
            guard !entries.isEmpty else {
                if let idleTimeout, Date().timeIntervalSince(lastEntry) >= idleTimeout { break }
                continue
            }
            lastEntry = Date()
            try deliver(entries, claimed: false)
        }
    }
}

extension String {
    /// `ci:task-finish:3` → `ci:task-finish`.
    fileprivate func dropLastShard() -> String {
        guard let colon = lastIndex(of: ":") else { return self }
        return String(self[..<colon])
    }
}
