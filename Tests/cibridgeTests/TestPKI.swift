import CIBridgeTestSupport
import Foundation
import Testing

/// Certificates made with the real `openssl` for the TLS tests, in a
/// temporary directory: a CA, server and client certificates it signed, a
/// second CA with a client of its own, and an expired server certificate
/// (made under libfaketime in 2020). All EC P-256.
final class TestPKI {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    init() throws {
        directory = try TemporaryDirectory("pki")
        try makeCA("ca", "cibridge test CA")
        try makeCA("other-ca", "someone else's CA")
        try makeLeaf("server", commonName: "cibridge-1", signer: "ca", server: true)
        try makeLeaf("server2", commonName: "cibridge-2", signer: "ca", server: true)
        try makeLeaf("client", commonName: "tencent-client", signer: "ca", server: false)
        try makeLeaf("other-client", commonName: "stranger", signer: "other-ca", server: false)
        try makeLeaf("expired", commonName: "cibridge-old", signer: "ca", server: true, faketime: "2020-01-01 00:00:00", days: 1)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Runs openssl; throws with its output when it fails.
    @discardableResult
    func openssl(_ arguments: [String], faketime: String? = nil) throws -> String {
        let result =
            if let faketime {
                try ChildProcess.run("/usr/bin/faketime", [faketime, "/usr/bin/openssl"] + arguments, timeout: 30)
            } else {
                try ChildProcess.run("/usr/bin/openssl", arguments, timeout: 30)
            }
        guard result.status == 0 else {
            throw TestPKIError(message: "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        return result.stdout
    }

    private func makeCA(_ name: String, _ commonName: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
            "-subj", "/CN=\(commonName)", "-keyout", file("\(name).key"), "-out", file("\(name).pem"),
        ])
    }

    private func makeLeaf(
        _ name: String, commonName: String, signer: String, server: Bool, faketime: String? = nil, days: Int = 30
    ) throws {
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(commonName)",
            "-keyout", file("\(name).key"), "-out", file("\(name).csr"),
        ])
        let extensions = server
            ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
            : "extendedKeyUsage=clientAuth\n"
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: file("\(name).ext")))
        try openssl(
            [
                "x509", "-req", "-in", file("\(name).csr"), "-CA", file("\(signer).pem"), "-CAkey", file("\(signer).key"),
                "-CAcreateserial", "-days", String(days), "-extfile", file("\(name).ext"), "-out", file("\(name).pem"),
            ], faketime: faketime)
    }
}

struct TestPKIError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
