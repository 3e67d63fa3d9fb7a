import ArgumentParser
import CIBridgeKafka
import CIBridgeRedis

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the cibridge version and the C libraries it is linked against."
    )

    func run() throws {
        print("cibridge \(CIBridgeVersion.current)")
        let features = KafkaLibrary.builtinFeatures.joined(separator: ",")
        print("librdkafka \(KafkaLibrary.version) (\(features))")
        let reader = RedisLibrary.readerSelfCheck() == "OK" ? "reader ok" : "reader FAILED"
        print("hiredis \(RedisLibrary.version) (\(reader))")
    }
}
