import ArgumentParser
import Foundation

struct OutboxQuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List what was kept aside: callback bodies serve refused (with their reason) and damaged log ranges."
    )

    @OptionGroup var outbox: OutboxDirectoryOption

    func run() throws {
        let rejected = outbox.directory + "/rejected"
        let bodies = ((try? FileManager.default.contentsOfDirectory(atPath: rejected)) ?? []).filter { $0.hasSuffix(".body") }.sorted()
        for name in bodies {
            let meta = rejected + "/" + name.dropLast(".body".count) + ".json"
            let reason = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: meta))) as? [String: Any])?["reason"] as? String
            print("refused body  \(rejected)/\(name)  \(reason ?? "")")
        }
        let damaged = outbox.directory + "/quarantine"
        let ranges = ((try? FileManager.default.contentsOfDirectory(atPath: damaged)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
        for name in ranges {
            let size = (try? FileManager.default.attributesOfItem(atPath: damaged + "/" + name)[.size] as? Int) ?? 0
            print("damaged log   \(damaged)/\(name)  \(size) bytes")
        }
        if bodies.isEmpty && ranges.isEmpty { print("quarantine is empty") }
    }
}
