import ArgumentParser
import CIBridgeConfiguration
import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import Foundation
import Logging

struct RedisDrainBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-drain",
        abstract: "Drain rate from a pre-filled outbox into Redis streams, next to redis-benchmark's pipelined XADD of the same size."
    )

    @Option(help: "Envelopes to pre-fill.") var count = 100_000
    @Option(help: "Distinct workflow IDs (streams).") var workflows = 1_000
    @Option(help: "Port for the redis-server this starts (default: a free one).") var port: Int?
    @Option(help: "Directory holding case2-workflow.xml.") var fixtures = "Tests/CIBridgeCoreTests/Fixtures/seed"
    @Flag(help: "Only the default layout (no comparison).") var defaultOnly = false

    /// Which streams each envelope goes to.
    struct Layout {
        let name: String
        let topics: Bool
        let shards: Int
        let workflows: Bool
        /// Drained with a replica attached (started before the first such layout).
        var replica = false
        var minReplicas = 0
        /// Drained into a cluster of 3 primaries with a replica each (started before the first such layout).
        var cluster = false
    }

    /// An outbox at `directory` pre-filled with `count` records cycling through
    /// `distinct`, each with an id of its own so that deduplication is paid for
    /// real; and the payload bytes in all.
    func prefill(
        directory: String, distinct: [(key: String, payload: [UInt8], attributes: [(name: String, value: String)], data: Range<Int>)]
    ) async throws -> (Outbox, Int) {
        let outbox = try Outbox(directory: directory, configuration: OutboxConfiguration(sinks: ["redis"], minFreeBytes: 0))
        var entries: [OutboxEntry] = []
        var payloadBytes = 0
        for n in 0..<count {
            let source = distinct[n % workflows]
            var payload = source.payload
            let id = Array(String(format: "%032x", n).utf8)
            if let range = Self.range(of: Array("\"id\":\"".utf8), in: payload) {
                payload.replaceSubrange(range.upperBound..<(range.upperBound + 32), with: id)
            }
            payloadBytes += payload.count
            // The stored attributes carry the same id (same length: `data`, which sorts first, does not move).
            let attributes = source.attributes.map { $0.name == "id" ? ("id", String(decoding: id, as: UTF8.self)) : $0 }
            entries.append(
                OutboxEntry(key: source.key, payload: payload, attributes: RecordAttributes(attributes, bodyRange: source.data)))
            if entries.count == 1000 {
                _ = try await outbox.append(entries)
                entries = []
            }
        }
        if !entries.isEmpty { _ = try await outbox.append(entries) }
        return (outbox, payloadBytes)
    }

    /// A redis-server replicating the bench's own, once it is in sync.
    func startReplica(of port: Int, directory: String) async throws -> Process {
        let replicaPort = port + 1
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(replicaPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory,
            "--dbfilename", "replica.rdb", "--logfile", directory + "/replica.log", "--replicaof", "127.0.0.1", String(port),
        ]
        try process.run()
        let url = try RedisURL("redis://127.0.0.1:\(replicaPort)")
        for _ in 0..<300 {
            if let info = try? RedisConnection(url: url).command(["INFO", "replication"].map { Array($0.utf8) }),
                info.text?.contains("master_link_status:up") == true
            {
                return process
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("the replica on \(replicaPort) did not catch up")
    }

    /// Six redis-server processes made into a cluster of 3 primaries with a replica each.
    func startCluster(directory: String) async throws -> ([Process], String) {
        var nodes: [Process] = []
        var ports: [Int] = []
        for index in 0..<6 {
            let port = Int.random(in: 41_000...49_000)
            let dir = directory + "/cluster-\(index)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
                "--logfile", dir + "/redis.log", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-port", String(port + 10_000), "--repl-diskless-sync-delay", "0",
            ]
            try process.run()
            nodes.append(process)
            ports.append(port)
        }
        for port in ports {
            for _ in 0..<100 {
                if (try? RedisConnection(url: RedisURL("redis://127.0.0.1:\(port)"))) != nil { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let create = Process()
        create.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        create.arguments = ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"]
        create.standardOutput = FileHandle.nullDevice
        try create.run()
        create.waitUntilExit()
        for _ in 0..<300 {
            let ok = ports.allSatisfy { port in
                ((try? RedisConnection(url: RedisURL("redis://127.0.0.1:\(port)")).command(["CLUSTER", "INFO"].map { Array($0.utf8) }))?
                    .text ?? "").contains("cluster_state:ok")
            }
            if ok { return (nodes, "redis-cluster://" + ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the benchmark's cluster did not become ok")
    }

    /// `used_memory` from a `MEMORY STATS` reply.
    static func usedMemory(_ reply: RedisReply) -> Int {
        guard case .array(let items) = reply else { return 0 }
        var index = 0
        while index + 1 < items.count {
            if items[index].text == "total.allocated", case .integer(let value) = items[index + 1] { return Int(value) }
            index += 2
        }
        return 0
    }

    func run() async throws {
        let base = FileManager.default.currentDirectoryPath + "/.bench-redis-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let port = self.port ?? Int.random(in: 20_000...40_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        server.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", base, "--logfile", base + "/redis.log"]
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let url = try RedisURL("redis://127.0.0.1:\(port)")
        var connected: RedisConnection?
        for _ in 0..<100 where connected == nil {
            connected = try? RedisConnection(url: url)
            if connected == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard connected != nil else { throw ValidationError("redis-server did not start on \(port)") }

        let template = try String(contentsOfFile: fixtures + "/case2-workflow.xml", encoding: .utf8)
        var distinct: [(key: String, payload: [UInt8], attributes: [(name: String, value: String)], data: Range<Int>)] = []
        for workflow in 0..<workflows {
            let body = template.replacingOccurrences(of: "web6ac56c1ef54dbfa44d7f4103203be9", with: "wf-\(workflow)")
            let envelope = EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode(Array(body.utf8)))[0]
            let (json, data) = envelope.jsonBytesAndDataRange()
            distinct.append((envelope.partitionKey, json, envelope.attributeList, data))
        }
        // The layouts compared in this one run: the default first (its figure is the target's).
        let layouts: [Layout] = [
            Layout(name: "default: topic streams, 4 shards", topics: true, shards: 4, workflows: false),
            Layout(name: "topic streams, 1 shard", topics: true, shards: 1, workflows: false),
            Layout(name: "topic streams (4 shards) + workflow streams", topics: true, shards: 4, workflows: true),
            Layout(name: "workflow streams only (the layout before topic streams)", topics: false, shards: 4, workflows: true),
            Layout(name: "one server, 16 shards", topics: true, shards: 16, workflows: false),
            Layout(name: "default, a replica attached, min_replicas 0", topics: true, shards: 4, workflows: false, replica: true),
            Layout(
                name: "default, a replica attached, min_replicas 1 (WAIT per pipeline)", topics: true, shards: 4, workflows: false,
                replica: true, minReplicas: 1),
            Layout(name: "cluster of 3 primaries (+3 replicas), 16 shards, min_replicas 0", topics: true, shards: 16, workflows: false, cluster: true),
            Layout(
                name: "cluster of 3 primaries (+3 replicas), 16 shards, min_replicas 1", topics: true, shards: 16, workflows: false,
                minReplicas: 1, cluster: true),
        ]
        var clusterNodes: [Process] = []
        var clusterURL = ""
        defer {
            for node in clusterNodes { kill(node.processIdentifier, SIGKILL) }
            for node in clusterNodes { node.waitUntilExit() }
        }
        var replicaProcess: Process?
        defer {
            if let replicaProcess {
                kill(replicaProcess.processIdentifier, SIGKILL)
                replicaProcess.waitUntilExit()
            }
        }
        print("redis drain benchmark: \(count) envelopes into \(workflows) workflows, redis-server on 127.0.0.1:\(port), no persistence")
        var results: [(Layout, Double)] = []
        for (index, layout) in layouts.enumerated() where index == 0 || !defaultOnly {
            if layout.replica && replicaProcess == nil {
                replicaProcess = try await startReplica(of: port, directory: base)
            }
            if layout.cluster && clusterNodes.isEmpty {
                // The single server's replica would take CPU from the cluster: stop it.
                if let replica = replicaProcess {
                    kill(replica.processIdentifier, SIGKILL)
                    replica.waitUntilExit()
                    replicaProcess = nil
                }
                (clusterNodes, clusterURL) = try await startCluster(directory: base)
            }
            _ = try connected!.command(["FLUSHALL"].map { Array($0.utf8) })
            if layout.cluster {
                for node in clusterURL.dropFirst("redis-cluster://".count).split(separator: ",") {
                    if let connection = try? RedisConnection(url: RedisURL("redis://\(node)")) {
                        // Replicas refuse it (READONLY): only primaries are flushed, which is what counts.
                        _ = try? connection.command(["FLUSHALL"].map { Array($0.utf8) })
                    }
                }
            }
            let directory = base + "/outbox-\(index)"
            let (outbox, payloadBytes) = try await prefill(directory: directory, distinct: distinct)
            var logger = Logger(label: "bench.redis")
            logger.logLevel = .error
            var configuration = BridgeConfiguration()
            var redis = BridgeConfiguration.Redis(url: layout.cluster ? clusterURL : "redis://127.0.0.1:\(port)")
            redis.topicStreams = layout.topics
            redis.shards = layout.shards
            redis.workflowStreams = layout.workflows
            redis.minReplicas = layout.minReplicas
            configuration.redis = redis
            let sink = try SinkFactory(configuration: configuration, logger: logger).makeSink(.redis, outbox: outbox)
            let redisCPUBefore = Self.cpuSeconds(pid: server.processIdentifier)
            let ownCPUBefore = Self.cpuSeconds(pid: getpid())
            let start = ContinuousClock.now
            let runner = Task { try await sink.run() }
            while outbox.status().sinks[0].pending > 0 {
                try await Task.sleep(for: .milliseconds(2))
                if (ContinuousClock.now - start) > .seconds(300) { break }
            }
            let seconds = (ContinuousClock.now - start).seconds
            let redisCPU = Self.cpuSeconds(pid: server.processIdentifier) - redisCPUBefore
            let ownCPU = Self.cpuSeconds(pid: getpid()) - ownCPUBefore
            runner.cancel()
            _ = try? await runner.value
            await outbox.close()
            try? FileManager.default.removeItem(atPath: directory)
            let rate = Double(count) / seconds
            let keys = try connected!.command(["DBSIZE"].map { Array($0.utf8) })
            let memory = try connected!.command(["MEMORY", "STATS"].map { Array($0.utf8) })
            print("\(layout.name):")
            print(String(format: "  %d envelopes (%d bytes each) in %.2f s = %.0f envelopes/s", count, payloadBytes / count, seconds, rate))
            print(String(format: "  CPU during the drain: redis-server %.2f s, cibridge %.2f s (of %.2f s wall, 2 cores)", redisCPU, ownCPU, seconds))
            if layout.cluster {
                print("  added \(sink.statistics.delivered - sink.statistics.duplicates), duplicates \(sink.statistics.duplicates), retried \(sink.statistics.retried)")
            } else {
                print("  added \(sink.statistics.delivered - sink.statistics.duplicates), duplicates \(sink.statistics.duplicates), retried \(sink.statistics.retried); keys in Redis: \(keys); used memory \(Self.usedMemory(memory) / 1_048_576) MiB")
            }
            results.append((layout, rate))
        }
        let rate = results[0].1
        if results.count > 1 {
            for (layout, value) in results.dropFirst() {
                print(String(format: "ratio %@ / default: %.2f", layout.name, value / rate))
            }
        }

        // The ceiling: redis-benchmark, XADD of a payload of the same size.
        let payload = String(decoding: distinct[0].payload, as: UTF8.self)
        var ceilings: [(String, Double)] = []
        for (clients, pipeline) in [(1, 100), (50, 100)] {
            let bench = Process()
            bench.executableURL = URL(fileURLWithPath: "/usr/bin/redis-benchmark")
            bench.arguments = ["-h", "127.0.0.1", "-p", String(port), "-n", String(count), "-c", String(clients), "-P", String(pipeline), "-q",
                               "XADD", "bench:__rand_int__", "MAXLEN", "~", "100000", "*", "envelope", payload]
            let pipe = Pipe()
            bench.standardOutput = pipe
            try bench.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            bench.waitUntilExit()
            // "...: 174825.17 requests per second, p50=..."
            let tokens = output.split(whereSeparator: { $0 == " " || $0 == "\r" || $0 == "\n" }).map(String.init)
            let number = tokens.indices.last { tokens[$0] == "requests" }.flatMap { Double(tokens[$0 - 1]) } ?? 0
            ceilings.append(("redis-benchmark XADD, \(clients) connection(s), pipeline \(pipeline)", number))
        }
        for (name, value) in ceilings { print(String(format: "%@: %.0f XADD/s", name, value)) }
        print(String(format: "ratio cibridge / redis-benchmark (1 connection): %.2f", rate / ceilings[0].1))
        print("target (default layout): >= 80000 envelopes/s: \(rate >= 80_000 ? "met" : "NOT met") (\(String(format: "%.2f", rate / 80_000))x)")
    }

    /// User + system CPU seconds of a process, from /proc.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}
