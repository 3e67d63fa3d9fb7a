import CIBridgeTestSupport
import Foundation
import Testing

/// TLS on `cibridge serve`'s own listener, tried with real clients (curl and
/// `openssl s_client`) and certificates made by `openssl` (``TestPKI``).
@Suite("TLS and mutual TLS on the listener, with curl and openssl", .serialized)
struct TLSTests {
    static let token = "tls-token"

    /// A serve with a Redis sink and TLS; `extra` adds `http.tls` keys.
    func serve(_ pki: TestPKI, _ redis: RedisServer, certificate: String = "server", extra: [String: String] = [:]) throws
        -> ServeProcess
    {
        var environment = [
            "CIBRIDGE_HTTP_TLS_CERTIFICATE": pki.file("\(certificate).pem"), "CIBRIDGE_HTTP_TLS_KEY": pki.file("\(certificate).key"),
        ]
        for (key, value) in extra { environment["CIBRIDGE_HTTP_TLS_" + key.uppercased()] = value }
        return try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token], environment: environment)
    }

    /// curl against serve: the HTTP status (0 when there was no HTTP answer),
    /// curl's exit status, and what it printed.
    struct Answer {
        let status: Int
        let exit: Int32
        let output: String
    }

    func curl(_ serve: ServeProcess, _ path: String, scheme: String = "https", post: Bool = true, _ options: [String] = [])
        throws -> Answer
    {
        try Self.curl(port: serve.port, path, scheme: scheme, post: post, options)
    }

    /// The same by port, for callers that must not capture the process object (``LoadLoop``).
    static func curl(port: Int, _ path: String, scheme: String = "https", post: Bool = true, _ options: [String] = [])
        throws -> Answer
    {
        var arguments = ["-sS", "--max-time", "10", "-o", "/dev/stderr", "-w", "%{http_code}"] + options
        if post {
            arguments += ["-H", "Content-Type: application/xml", "--data-binary", "@" + CLIRunner.fixture("seed/case2-workflow.xml")]
        }
        arguments.append("\(scheme)://127.0.0.1:\(port)\(path)")
        let result = try ChildProcess.run("/usr/bin/curl", arguments, timeout: 20)
        return Answer(status: Int(result.stdout.trimmingCharacters(in: .whitespaces)) ?? 0, exit: result.status, output: result.stderr)
    }

    func waitUntilReady(_ serve: ServeProcess, _ pki: TestPKI, client: [String] = []) async throws -> Bool {
        for _ in 0..<200 {
            if try curl(serve, "/readyz", post: false, ["--cacert", pki.file("ca.pem")] + client).status == 200 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func metrics(_ serve: ServeProcess, _ pki: TestPKI, client: [String] = []) throws -> String {
        try curl(serve, "/metrics", post: false, ["--cacert", pki.file("ca.pem")] + client).output
    }

    @Test("A callback over TLS is accepted; TLS 1.2 and 1.3 negotiate, TLS 1.1 is refused; the expiry is a metric")
    func acceptedOverTLS() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        let serve = try serve(pki, redis)
        defer { serve.remove() }
        #expect(try await waitUntilReady(serve, pki), "\(serve.errors.text)")
        let answer = try curl(serve, "/callbacks/\(Self.token)", ["--cacert", pki.file("ca.pem")])
        #expect(answer.status == 200, "\(answer.output)")
        #expect(answer.output.contains(#""status":"accepted""#))
        // The client checked the certificate against the test CA and 127.0.0.1 (no -k anywhere).
        for (version, expected) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
            let session = try ChildProcess.run(
                "/usr/bin/openssl",
                ["s_client", "-connect", "127.0.0.1:\(serve.port)", version, "-CAfile", pki.file("ca.pem"), "-verify_return_error"],
                stdin: Data(), timeout: 20)
            #expect(session.stdout.contains("Protocol  : \(expected)") || session.stdout.contains("New, \(expected)"), "\(session.stdout)")
            #expect(session.stdout.contains("Verify return code: 0 (ok)"))
        }
        let old = try ChildProcess.run(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(serve.port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
            stdin: Data(), timeout: 20)
        #expect(old.status != 0)
        // The server refused it (alert 70), not the client.
        #expect(old.stdout.contains("alert protocol version") || old.stderr.contains("alert protocol version"), "\(old.stderr)")
        // cibridge top reads a TLS bridge too, checking its certificate.
        let top = try CLIRunner.run(
            ["top", "--once", "--interval", "0.2", "--url", "https://127.0.0.1:\(serve.port)/metrics", "--cacert", pki.file("ca.pem")],
            timeout: 30)
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdout.contains("total 1 ") && top.stdout.contains("https://127.0.0.1:\(serve.port)/metrics"), "\(top.stdout)")
        let untrusted = try CLIRunner.run(
            ["top", "--once", "--url", "https://127.0.0.1:\(serve.port)/metrics", "--cacert", pki.file("other-ca.pem")], timeout: 30)
        #expect(untrusted.status == 1, "\(untrusted.stderr)")
        let text = try metrics(serve, pki)
        let expiry = text.split(separator: "\n").first { $0.hasPrefix("cibridge_tls_certificate_expiry_timestamp_seconds ") }
        let seconds = Double(expiry?.split(separator: " ").last ?? "") ?? 0
        // 30 days from now, give or take the test's minute.
        #expect(abs(seconds - Date().addingTimeInterval(30 * 86_400).timeIntervalSince1970) < 3600, "\(expiry ?? "no expiry metric")")
    }

    @Test("Without http.tls, SIGHUP is logged and serve keeps running (its default action would end it)")
    func hangupWithoutTLS() async throws {
        let redis = try RedisServer()
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        kill(serve.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await serve.waitUntilReady(seconds: 2))
        #expect(serve.errors.text.contains("SIGHUP: nothing to reload"))
        #expect(serve.terminate() == 0)
    }

    @Test("Plain HTTP to the TLS port gets no callback in")
    func plainHTTPRefused() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        let serve = try serve(pki, redis)
        defer { serve.remove() }
        #expect(try await waitUntilReady(serve, pki))
        let plain = try curl(serve, "/callbacks/\(Self.token)", scheme: "http")
        #expect(plain.status != 200)
        let text = try metrics(serve, pki)
        #expect(text.contains(#"cibridge_callbacks_total{result="accepted",status="200"} 0"#), "\(text)")
        #expect(text.contains("cibridge_events_stored_total 0"))
    }

    @Test("Mutual TLS, require: no client certificate and one from another CA are refused at the handshake; the configured CA's is accepted")
    func mutualTLSRequire() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        let serve = try serve(pki, redis, extra: ["client_ca": pki.file("ca.pem")])
        defer { serve.remove() }
        let client = ["--cert", pki.file("client.pem"), "--key", pki.file("client.key")]
        #expect(try await waitUntilReady(serve, pki, client: client), "\(serve.errors.text)")
        let ca = ["--cacert", pki.file("ca.pem")]
        let none = try curl(serve, "/callbacks/\(Self.token)", ca)
        #expect(none.status == 0 && none.exit != 0, "no client certificate: \(none.output)")
        let stranger = try curl(serve, "/callbacks/\(Self.token)", ca + ["--cert", pki.file("other-client.pem"), "--key", pki.file("other-client.key")])
        #expect(stranger.status == 0 && stranger.exit != 0, "another CA's client: \(stranger.output)")
        // At the handshake: openssl, with TLS 1.2 so the refusal comes before any application data.
        let handshake = try ChildProcess.run(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(serve.port)", "-tls1_2", "-CAfile", pki.file("ca.pem")],
            stdin: Data(), timeout: 20)
        #expect(handshake.status != 0)
        #expect(handshake.stderr.contains("alert handshake failure") || handshake.stderr.contains("certificate required"), "\(handshake.stderr)")
        #expect(handshake.stdout.contains("Acceptable client certificate CA names") && handshake.stdout.contains("cibridge test CA"))
        let trusted = try curl(serve, "/callbacks/\(Self.token)", ca + client)
        #expect(trusted.status == 200, "\(trusted.output)")
        let text = try metrics(serve, pki, client: client)
        #expect(text.contains(#"cibridge_callbacks_total{result="accepted",status="200"} 1"#), "\(text)")
    }

    @Test("Mutual TLS, optional: no client certificate is accepted, one from another CA is refused")
    func mutualTLSOptional() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        let serve = try serve(pki, redis, extra: ["client_ca": pki.file("ca.pem"), "client_auth": "optional"])
        defer { serve.remove() }
        #expect(try await waitUntilReady(serve, pki))
        let ca = ["--cacert", pki.file("ca.pem")]
        #expect(try curl(serve, "/callbacks/\(Self.token)", ca).status == 200)
        let stranger = try curl(serve, "/callbacks/\(Self.token)", ca + ["--cert", pki.file("other-client.pem"), "--key", pki.file("other-client.key")])
        #expect(stranger.status == 0 && stranger.exit != 0, "\(stranger.output)")
        #expect(try curl(serve, "/callbacks/\(Self.token)", ca + ["--cert", pki.file("client.pem"), "--key", pki.file("client.key")]).status == 200)
    }

    @Test("config check: shows the expiry, reports an expired certificate, a key that is not the certificate's, a missing file")
    func configCheck() throws {
        let pki = try TestPKI()
        func check(_ certificate: String, _ key: String, strict: Bool = false) throws -> ChildProcess.Result {
            try CLIRunner.run(
                ["config", "check", "--redis-url", "redis://127.0.0.1:6379", "--tls-certificate", pki.file(certificate), "--tls-key", pki.file(key)]
                    + (strict ? ["--strict"] : []),
                environment: [:])
        }
        let good = try check("server.pem", "server.key")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("# tls: CN=cibridge-1, 1 certificate in the chain"), "\(good.stdout)")
        #expect(good.stdout.contains("(29 days left)") || good.stdout.contains("(30 days left)"), "\(good.stdout)")
        // Expired: reported, a warning (serve serves it, so that systemd's ExecStartPre does not
        // keep it from starting and a renewal is picked up); an error with --strict.
        let expired = try check("expired.pem", "expired.key")
        #expect(expired.status == 0)
        #expect(expired.stderr.contains("warning: http.tls.certificate expired on 2020-01-02"), "\(expired.stderr)")
        #expect(expired.stdout.contains("EXPIRED"))
        let strict = try check("expired.pem", "expired.key", strict: true)
        #expect(strict.status == 78)
        #expect(strict.stderr.contains("config error: http.tls.certificate expired on 2020-01-02"), "\(strict.stderr)")
        let mismatch = try check("server.pem", "server2.key")
        #expect(mismatch.status == 78)
        #expect(mismatch.stderr.contains("is not the private key of"), "\(mismatch.stderr)")
        let missing = try check("nope.pem", "server.key")
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("http.tls.certificate: cannot read"), "\(missing.stderr)")
        // serve refuses to start on the same errors, naming them.
        let refused = try CLIRunner.run(
            ["serve", "--redis-url", "redis://127.0.0.1:1", "--outbox", pki.file("outbox"), "--tls-certificate", pki.file("server.pem"),
             "--tls-key", pki.file("server2.key")], timeout: 20, environment: [:])
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("is not the private key of"), "\(refused.stderr)")
    }
}

extension TLSTests {
    /// Replaces `name`.pem and `name`.key by copies of `source`'s, each by a
    /// rename (as certbot and cert-manager do), the certificate first.
    func install(_ pki: TestPKI, _ source: String, as name: String) throws {
        for suffix in ["pem", "key"] {
            let temporary = pki.file("\(name).\(suffix).new")
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: pki.file("\(source).\(suffix)"), toPath: temporary)
            guard rename(temporary, pki.file("\(name).\(suffix)")) == 0 else { throw TestPKIError(message: "rename failed") }
        }
    }

    /// A ready serve whose certificate files (`live.pem`, `live.key`, first
    /// copies of `server`'s) the test replaces.
    func liveServe(_ pki: TestPKI, _ redis: RedisServer, reloadInterval: String) async throws -> ServeProcess {
        try install(pki, "server", as: "live")
        let serve = try serve(pki, redis, certificate: "live", extra: ["reload_interval": reloadInterval])
        #expect(try await waitUntilReady(serve, pki), "\(serve.errors.text)")
        return serve
    }

    /// The subject a new connection is shown.
    func servedSubject(_ serve: ServeProcess, _ pki: TestPKI) throws -> String {
        let answer = try curl(serve, "/healthz", post: false, ["-v", "--cacert", pki.file("ca.pem")])
        return answer.output.firstMatch(of: /subject: (CN=[^\n]*)/).map { String($0.1) } ?? "none: \(answer.output)"
    }

    func waitForSubject(_ subject: String, _ serve: ServeProcess, _ pki: TestPKI, seconds: Double = 10) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try servedSubject(serve, pki) == subject { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Waits until serve logged `count` successful reloads.
    func waitForReloads(_ count: Int, _ serve: ServeProcess, seconds: Double = 10) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if serve.errors.text.components(separatedBy: "TLS certificate reloaded").count - 1 >= count { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("The certificate is rotated under load on SIGHUP: new connections see it, a keep-alive connection and every request carry on")
    func rotationUnderLoad() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        // Only SIGHUP reloads here: the file check is an hour away.
        let serve = try await liveServe(pki, redis, reloadInterval: "1h")
        defer { serve.remove() }
        #expect(try servedSubject(serve, pki) == "CN=cibridge-1")

        // One keep-alive connection through both rotations: 40 callbacks at 10/s.
        let url = "https://127.0.0.1:\(serve.port)/callbacks/\(Self.token)"
        var keepAlive = ["-sS", "--cacert", pki.file("ca.pem"), "--rate", "10/s", "-w", "%{http_code} %{num_connects}\\n",
                         "-H", "Content-Type: application/xml", "--data-binary", "@" + CLIRunner.fixture("seed/case2-workflow.xml")]
        for _ in 0..<40 { keepAlive += ["-o", "/dev/null", url] }
        let longLived = try ChildProcess("/usr/bin/curl", keepAlive)

        // Three callers, each request on a new connection, until told to stop.
        let (port, ca) = (serve.port, pki.file("ca.pem"))
        let load = LoadLoop(callers: 3) { try Self.curl(port: port, "/callbacks/\(Self.token)", ["--cacert", ca]).status }
        try await Task.sleep(for: .seconds(1))
        try install(pki, "server2", as: "live")
        kill(serve.processIdentifier, SIGHUP)
        #expect(try await waitForSubject("CN=cibridge-2", serve, pki), "\(serve.errors.text)")
        try await Task.sleep(for: .seconds(1))
        try install(pki, "server", as: "live")
        kill(serve.processIdentifier, SIGHUP)
        #expect(try await waitForSubject("CN=cibridge-1", serve, pki))
        try await Task.sleep(for: .milliseconds(500))
        let statuses = load.stop()

        #expect(longLived.wait(seconds: 20) == 0)
        let lines = longLived.stdout.text.split(separator: "\n")
        #expect(lines.count == 40)
        #expect(lines.allSatisfy { $0.hasPrefix("200 ") }, "\(lines)")
        // curl counts the connections each transfer made: the first one, then none.
        #expect(lines.dropFirst().allSatisfy { $0 == "200 0" }, "\(lines)")
        #expect(statuses.count > 20)
        #expect(statuses.allSatisfy { $0 == 200 }, "answers during rotation: \(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
        #expect(serve.errors.text.components(separatedBy: "TLS certificate reloaded").count - 1 == 2)
        print("tls rotation: \(statuses.count) callbacks on new connections and 40 on one keep-alive connection across 2 reloads, all 200")
    }

    @Test("A changed file is picked up without a signal; a broken one keeps the previous certificate and is logged once")
    func reloadOnFileChange() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        let serve = try await liveServe(pki, redis, reloadInterval: "200ms")
        defer { serve.remove() }
        try install(pki, "server2", as: "live")
        #expect(try await waitForSubject("CN=cibridge-2", serve, pki), "\(serve.errors.text)")
        // A key that does not belong to the certificate (a renewal half done), put in place by a rename.
        try FileManager.default.copyItem(atPath: pki.file("server.key"), toPath: pki.file("wrong.key"))
        #expect(rename(pki.file("wrong.key"), pki.file("live.key")) == 0)
        try await Task.sleep(for: .seconds(1.5))
        #expect(try servedSubject(serve, pki) == "CN=cibridge-2")
        let failures = serve.errors.text.split(separator: "\n").filter { $0.contains("TLS reload failed") }
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.contains("is not the private key of") == true)
        let text = try metrics(serve, pki)
        #expect(text.contains(#"cibridge_tls_reloads_total{result="failed"} 1"#), "\(text)")
        #expect(text.contains(#"cibridge_tls_reloads_total{result="ok"} 1"#))
        #expect(text.contains("cibridge_tls_reload_failing 1"))
        #expect(try curl(serve, "/callbacks/\(Self.token)", ["--cacert", pki.file("ca.pem")]).status == 200)
        // The right key again: reloaded, no longer failing.
        try install(pki, "server2", as: "live")
        #expect(try await waitForReloads(2, serve))
        #expect(try metrics(serve, pki).contains("cibridge_tls_reload_failing 0"))
        // A graceful stop is not a failed reload (the watcher is cancelled, nothing is attempted).
        #expect(serve.terminate() == 0)
        #expect(serve.errors.text.split(separator: "\n").filter { $0.contains("TLS reload failed") }.count == 1, "\(serve.errors.text)")
    }
}

/// Callers that each run `request` in a loop on threads of their own (curl
/// blocks; the cooperative pool must not), until `stop()`.
final class LoadLoop: @unchecked Sendable {
    // @unchecked: `statuses` and `running` are only touched under `lock`.
    private let lock = NSLock()
    private var statuses: [Int] = []
    private var running = true
    private let group = DispatchGroup()

    init(callers: Int, _ request: @escaping @Sendable () throws -> Int) {
        for index in 0..<callers {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                while lock.withLock({ running }) {
                    let status = (try? request()) ?? -1
                    lock.withLock { statuses.append(status) }
                }
                _ = index
            }
        }
    }

    /// Stops the callers, waits for their last requests, and returns every status.
    func stop() -> [Int] {
        lock.withLock { running = false }
        group.wait()
        return lock.withLock { statuses }
    }
}
