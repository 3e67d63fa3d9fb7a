import ArgumentParser
import CIBridgeConfiguration
import CIBridgeHTTP

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and print the effective settings, secrets masked.",
        discussion: """
            Reads --config, then CIBRIDGE_* environment variables, then the flags (later wins). \
            With http.tls, also reads the certificate, key and client CAs: readable, the key the \
            certificate's, the certificate valid now; its expiry is shown. \
            Exit status 0 when valid; 78 with one line naming the key otherwise.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration: BridgeConfiguration
        do {
            configuration = try options.load()
            writeStandardOutput(Array(configuration.maskedYAML.utf8))
        } catch {
            report("config error: \(error)")
            throw ExitCode(78)
        }
        // The TLS files as serve would read them: readable, the key the
        // certificate's, and valid now; the expiry is shown either way.
        if let tls = configuration.http.tls {
            do {
                let material = try TLSMaterial(tls)
                writeStandardOutput(Array("# tls: \(material.summary())\n".utf8))
                try material.checkValidity()
            } catch {
                report("config error: \(error.message)")
                throw ExitCode(78)
            }
        }
    }
}
