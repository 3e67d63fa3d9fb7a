import CIBridgeTestSupport
import Foundation
import Testing

@Suite("cibridge config check")
struct ConfigCommandTests {
    @Test("A valid file prints the effective settings, secrets masked; a mistake is one line, exit 78")
    func check() throws {
        let directory = try TemporaryDirectory("config")
        defer { directory.remove() }
        let path = directory.file("cibridge.yaml")
        try "http:\n  token: s3cret\nredis:\n  url: redis://:pw@127.0.0.1:6379\n".write(toFile: path, atomically: true, encoding: .utf8)
        let good = try CLIRunner.run(["config", "check", "--config", path, "--listen", "127.0.0.1:9999"])
        #expect(good.status == 0)
        #expect(good.stdout.contains("listen: \"127.0.0.1:9999\""))
        #expect(!good.stdout.contains("s3cret"))
        #expect(!good.stdout.contains(":pw@"))

        let bad = try CLIRunner.run(["config", "check", "--config", path, "--listen", "everywhere"])
        #expect(bad.status == 78)
        #expect(bad.stderrLines == ["config error: http.listen: 'everywhere' is not host:port (e.g. 0.0.0.0:8080)"])

        let missing = try CLIRunner.run(["config", "check", "--config", "/nonexistent.yaml"])
        #expect(missing.status == 78)
        #expect(missing.stderrLines == ["config error: --config: cannot read /nonexistent.yaml"])
    }
}
