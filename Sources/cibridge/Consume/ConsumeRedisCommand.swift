import ArgumentParser
import CIBridgeRedis
import Foundation

struct ConsumeRedisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Read envelopes from Redis streams and print them as JSON Lines.",
        discussion: """
            Without --group it reads with XREAD (nothing is recorded on the server). With --group \
            and --consumer it reads with XREADGROUP and acknowledges each entry with XACK, \
            creating the group if it is missing: the pattern for your own consumers.
            """
    )

    @Option(help: "redis://[[user]:password@]host[:port][/db] or unix:///path?db=N") var url: String
    @Option(name: .customLong("stream"), help: "A stream to read (repeatable), e.g. ci:wf:<WorkflowId>.") var streams: [String]
    @Option(help: "Consumer group (XREADGROUP + XACK).") var group: String?
    @Option(help: "Consumer name within the group.") var consumer: String?
    @Flag(help: "Start at the oldest entry instead of new ones.") var fromBeginning = false
    @Option(help: "Stop after this many envelopes.") var max: Int?
    @Option(name: .customLong("idle-timeout"), help: "Stop after this many seconds without an entry.") var idleTimeout: Double?
    @Flag(help: "Print stream and entry id on stderr.") var verbose = false

    func validate() throws {
        guard !streams.isEmpty else { throw ValidationError("give at least one --stream") }
        guard (group == nil) == (consumer == nil) else { throw ValidationError("--group and --consumer go together") }
    }

    func run() throws {
        Interruption.install()
        let connection = try RedisConnection(url: RedisURL(url), commandTimeout: .seconds(10))
        if let group {
            for stream in streams {
                let reply = try connection.command(["XGROUP", "CREATE", stream, group, fromBeginning ? "0" : "$", "MKSTREAM"].map { Array($0.utf8) })
                if case .error(let text) = reply, !text.hasPrefix("BUSYGROUP") {
                    throw ValidationFailure("XGROUP CREATE \(stream) \(group): \(text)")
                }
            }
        }
        var positions = streams.map { _ in fromBeginning ? "0" : "$" }
        var count = 0
        var lastEntry = Date()
        while !Interruption.requested {
            if let max, count >= max { break }
            let read: [String]
            if let group, let consumer {
                read = ["XREADGROUP", "GROUP", group, consumer, "COUNT", "100", "BLOCK", "500", "STREAMS"] + streams + streams.map { _ in ">" }
            } else {
                read = ["XREAD", "COUNT", "100", "BLOCK", "500", "STREAMS"] + streams + positions
            }
            let reply = try connection.command(read.map { Array($0.utf8) })
            if case .error(let text) = reply { throw ValidationFailure("redis: \(text)") }
            guard case .array(let perStream) = reply, !perStream.isEmpty else {
                if let idleTimeout, Date().timeIntervalSince(lastEntry) >= idleTimeout { break }
                continue
            }
            lastEntry = Date()
            for streamReply in perStream {
                guard case .array(let pair) = streamReply, pair.count == 2, let stream = pair[0].text,
                    case .array(let entries) = pair[1]
                else { continue }
                for entry in entries {
                    guard case .array(let parts) = entry, parts.count == 2, let id = parts[0].text, case .array(let fields) = parts[1]
                    else { continue }
                    if let max, count >= max { break }
                    if let index = streams.firstIndex(of: stream) { positions[index] = id }
                    var envelope: [UInt8]?
                    var index = 0
                    while index + 1 < fields.count {
                        if fields[index].text == "envelope", case .bulk(let bytes) = fields[index + 1] { envelope = bytes }
                        index += 2
                    }
                    if verbose { report("\(stream) \(id)") }
                    if let envelope {
                        writeStandardOutput(envelope + [UInt8(ascii: "\n")])
                        count += 1
                    }
                    if let group {
                        _ = try connection.command(["XACK", stream, group, id].map { Array($0.utf8) })
                    }
                }
            }
        }
    }
}
