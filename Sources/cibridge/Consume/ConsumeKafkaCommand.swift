import ArgumentParser
import CIBridgeKafka
import Foundation

struct ConsumeKafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Read envelopes from Kafka topics and print them as JSON Lines.",
        discussion: """
            Without --group every partition is read directly (nothing is committed); with --group \
            the consumer joins that group and commits its offsets. Envelopes produced in binary mode \
            are printed rebuilt as structured JSON, so the output is the same in both modes.
            """
    )

    @Option(help: "Bootstrap servers, host:port[,host:port…].") var brokers: String
    @Option(name: .customLong("topic"), help: "A topic to read (repeatable).") var topics: [String] = ["ci.task-finish"]
    @Option(help: "Consumer group (commits offsets).") var group: String?
    @Flag(help: "Start at the oldest message instead of new ones.") var fromBeginning = false
    @Option(help: "Stop after this many envelopes.") var max: Int?
    @Option(name: .customLong("idle-timeout"), help: "Stop after this many seconds without a message.") var idleTimeout: Double?
    @Flag(help: "Print topic, partition, offset, key and trace context of each message on stderr.") var verbose = false
    @Option(name: .customLong("property"), help: "A librdkafka property as NAME=VALUE (repeatable).") var properties: [String] = []

    func run() throws {
        Interruption.install()
        var settings: [String: String] = [:]
        for property in properties {
            guard let equals = property.firstIndex(of: "=") else { throw ValidationError("--property '\(property)': use NAME=VALUE") }
            settings[String(property[..<equals])] = String(property[property.index(after: equals)...])
        }
        let consumer = try KafkaConsumer(brokers: brokers, topics: topics, group: group, fromBeginning: fromBeginning, properties: settings)
        var count = 0
        var lastMessage = Date()
        while !Interruption.requested {
            if let max, count >= max { break }
            guard let record = try consumer.poll(timeoutMilliseconds: 200) else {
                if let idleTimeout, Date().timeIntervalSince(lastMessage) >= idleTimeout { break }
                continue
            }
            lastMessage = Date()
            count += 1
            if verbose {
                var line = "\(record.topic) partition \(record.partition) offset \(record.offset) key \(String(decoding: record.key, as: UTF8.self))"
                for name in ["traceparent", "tracestate"] {
                    if let value = record.header(name) { line += " \(name) \(String(decoding: value, as: UTF8.self))" }
                }
                report(line)
            }
            writeStandardOutput(record.envelope + [UInt8(ascii: "\n")])
        }
    }
}
