import CIBridgeKafka
import Foundation

/// One fault-injection command for `cibridge dev-kafka --control`, read as a
/// line from standard input. Scripts (`scripts/bench`, `scripts/chaos`) use it
/// to stop and start "Kafka" without losing the cluster's topics.
enum DevKafkaControl: Equatable {
    /// `down [ID|all]`: brokers close their connections and accept none.
    case down(Int32?)
    /// `up [ID|all]`
    case up(Int32?)
    /// `rtt MILLISECONDS [ID|all]`: added round-trip time.
    case rtt(Int, Int32?)
    /// `leader TOPIC PARTITION BROKER`: moves a partition's leadership.
    case leader(String, Int32, Int32)
    /// `errors APIKEY CODE [CODE…]`: the next requests of that API (0 = Produce) fail with these codes.
    case errors(Int16, [Int32])

    /// Parses one line; the error is a one-line reason.
    init(parsing line: String) throws(DevKafkaControlError) {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let verb = words.first else { throw DevKafkaControlError("empty command") }
        func broker(_ index: Int) throws(DevKafkaControlError) -> Int32? {
            guard index < words.count, words[index] != "all" else { return nil }
            guard let id = Int32(words[index]), id > 0 else { throw DevKafkaControlError("'\(words[index])' is not a broker id") }
            return id
        }
        switch (verb, words.count) {
        case ("down", 1...2): self = .down(try broker(1))
        case ("up", 1...2): self = .up(try broker(1))
        case ("rtt", 2...3):
            guard let ms = Int(words[1]), ms >= 0 else { throw DevKafkaControlError("rtt needs milliseconds") }
            self = .rtt(ms, try broker(2))
        case ("leader", 4):
            guard let partition = Int32(words[2]), let id = Int32(words[3]) else {
                throw DevKafkaControlError("use: leader TOPIC PARTITION BROKER")
            }
            self = .leader(words[1], partition, id)
        case ("errors", 3...):
            guard let api = Int16(words[1]) else { throw DevKafkaControlError("use: errors APIKEY CODE [CODE…]") }
            var codes: [Int32] = []
            for word in words.dropFirst(2) {
                guard let code = Int32(word) else { throw DevKafkaControlError("'\(word)' is not an error code") }
                codes.append(code)
            }
            self = .errors(api, codes)
        default:
            throw DevKafkaControlError("unknown command '\(line)'; use down, up, rtt, leader or errors")
        }
    }

    /// Carries the command out on `cluster`.
    func apply(to cluster: KafkaMockCluster) throws(KafkaError) {
        let all = (1...Int32(cluster.brokerCount))
        switch self {
        case .down(let id): for b in id.map({ [$0] }) ?? Array(all) { try cluster.setBrokerDown(b) }
        case .up(let id): for b in id.map({ [$0] }) ?? Array(all) { try cluster.setBrokerUp(b) }
        case .rtt(let ms, let id):
            for b in id.map({ [$0] }) ?? Array(all) { try cluster.setRoundTripTime(broker: b, milliseconds: ms) }
        case .leader(let topic, let partition, let id): try cluster.setPartitionLeader(topic, partition: partition, broker: id)
        case .errors(let api, let codes): cluster.pushRequestErrors(apiKey: api, codes)
        }
    }

    /// Reads commands from standard input on a thread of its own until end of input.
    static func startReading(for cluster: KafkaMockCluster) {
        let thread = Thread {
            while let line = readLine() {
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                do {
                    let command = try DevKafkaControl(parsing: line)
                    try command.apply(to: cluster)
                    report("dev-kafka: ok \(line)")
                } catch {
                    report("dev-kafka: \(line): \(error)")
                }
            }
        }
        thread.name = "dev-kafka-control"
        thread.start()
    }
}

/// Why a control line was refused.
struct DevKafkaControlError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
