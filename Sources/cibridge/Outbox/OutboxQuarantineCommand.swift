import ArgumentParser
import Foundation

struct OutboxQuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List the damaged byte ranges recovery moved out of the log (never deleted)."
    )

    @OptionGroup var outbox: OutboxDirectoryOption

    func run() throws {
        let directory = outbox.directory + "/quarantine"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
        if names.isEmpty { print("quarantine is empty") }
        for name in names {
            let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0
            print("\(directory)/\(name)  \(size) bytes")
        }
    }
}
