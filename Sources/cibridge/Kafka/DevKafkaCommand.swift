import ArgumentParser
import CIBridgeKafka

struct DevKafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-kafka",
        abstract: "Run a development Kafka (librdkafka's mock cluster) on 127.0.0.1 until interrupted.",
        discussion: """
            Prints the bootstrap servers on the first line, then runs until Ctrl-C. \
            DEVELOPMENT ONLY: the mock cluster keeps only a few MB per partition and nothing \
            on disk. Topics are created on first use. With --control, lines on standard input \
            inject faults: `down [ID|all]`, `up [ID|all]`, `rtt MS [ID|all]`, \
            `leader TOPIC PARTITION BROKER`, `errors APIKEY CODE [CODE…]` (API key 0 is Produce).
            """
    )

    @Option(help: "Number of brokers.") var brokers = 3
    @Option(help: "A fixed port on 127.0.0.1 for bootstrapping (the brokers themselves use random ports).")
    var port: UInt16?
    @Option(name: .customLong("topic"), help: "Create a topic first, as NAME:PARTITIONS (repeatable).")
    var topics: [String] = []
    @Flag(help: "Read fault-injection commands from standard input (see above).")
    var control = false

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be 1 to 16") }
        for topic in topics where topic.split(separator: ":").count != 2 || Int(topic.split(separator: ":")[1]) == nil {
            throw ValidationError("--topic '\(topic)': use NAME:PARTITIONS")
        }
    }

    func run() throws {
        Interruption.install()
        let cluster = try KafkaMockCluster(brokers: brokers)
        for topic in topics {
            let parts = topic.split(separator: ":")
            try cluster.createTopic(String(parts[0]), partitions: Int(parts[1])!)
        }
        var bootstrap = cluster.bootstrapServers
        var forwarder: TCPForwarder?
        if let port {
            let first = String(cluster.bootstrapServers.split(separator: ",")[0])
            forwarder = try TCPForwarder(port: port, target: first)
            bootstrap = "127.0.0.1:\(port)"
        }
        if control { DevKafkaControl.startReading(for: cluster) }
        writeStandardOutput(Array((bootstrap + "\n").utf8))
        report("dev-kafka: \(brokers) mock broker(s) at \(cluster.bootstrapServers); development only, a few MB per partition; Ctrl-C stops")
        Interruption.wait()
        _ = forwarder
        report("dev-kafka: stopped")
    }
}
