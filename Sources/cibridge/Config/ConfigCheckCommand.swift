import ArgumentParser
import CIBridgeConfiguration

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and print the effective settings, secrets masked.",
        discussion: """
            Reads --config, then CIBRIDGE_* environment variables, then the flags (later wins). \
            Exit status 0 when valid; 78 with one line naming the key otherwise.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        do {
            let configuration = try options.load()
            writeStandardOutput(Array(configuration.maskedYAML.utf8))
        } catch {
            report("config error: \(error)")
            throw ExitCode(78)
        }
    }
}
