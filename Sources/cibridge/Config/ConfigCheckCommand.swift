import ArgumentParser
import CIBridgeConfiguration
import CIBridgeHTTP

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and print the effective settings, secrets masked.",
        discussion: """
            Reads --config, then CIBRIDGE_* environment variables, then the flags (later wins). \
            With http.tls, also reads the certificate, key and client CAs: readable, PEM, the key \
            the certificate's; its validity is shown, and a certificate expired or not yet valid is \
            a warning (an error with --strict). \
            Exit status 0 when valid; 78 with one line naming the key otherwise.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: "Also fail (78) when the TLS certificate is not valid now (expired, or not yet valid); otherwise that is a warning.")
    var strict = false

    func run() throws {
        let configuration: BridgeConfiguration
        do {
            configuration = try options.load()
            writeStandardOutput(Array(configuration.maskedYAML.utf8))
        } catch {
            report("config error: \(error)")
            throw ExitCode(78)
        }
        // The TLS files as serve would read them: readable, PEM, the key the
        // certificate's (errors, as serve refuses them too). The validity is
        // shown; outside it is a warning, since serve serves such a certificate
        // (a renewal is then picked up without a restart) and systemd's
        // ExecStartPre must not keep it from starting; --strict makes it an error.
        if let tls = configuration.http.tls {
            let material: TLSMaterial
            do {
                material = try TLSMaterial(tls)
            } catch {
                report("config error: \(error.message)")
                throw ExitCode(78)
            }
            writeStandardOutput(Array("# tls: \(material.summary())\n".utf8))
            do {
                try material.checkValidity()
            } catch {
                report("\(strict ? "config error" : "warning"): \(error.message)")
                if strict { throw ExitCode(78) }
            }
        }
    }
}
