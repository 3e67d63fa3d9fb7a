import CIBridgeTestSupport
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `cibridge serve` process on a free loopback port, for end-to-end
/// tests. Killed when the last reference to it goes away; its outbox, when it
/// made one, is removed then too.
final class ServeProcess {
    let port: Int
    let outbox: String
    /// The outbox directory when the caller gave none.
    private let temporary: TemporaryDirectory?
    private let child: ChildProcess

    /// What serve logged so far (it logs to standard error).
    var errors: ByteCollector { child.stderr }

    var processIdentifier: Int32 { child.processIdentifier }

    /// Starts serve with `arguments` (after `--listen` and `--outbox`); `outbox`
    /// defaults to a fresh temporary directory. Inherited `CIBRIDGE_*`
    /// variables are dropped so the developer's shell cannot change a test.
    init(arguments: [String], outbox: String? = nil, environment: [String: String] = [:]) throws {
        port = RedisServer.freePort()
        temporary = outbox == nil ? try TemporaryDirectory("serve") : nil
        self.outbox = outbox ?? temporary!.path
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CIBRIDGE_") }
        for (key, value) in environment { env[key] = value }
        child = try ChildProcess(
            CLIRunner.executable, ["serve", "--listen", "127.0.0.1:\(port)", "--outbox", self.outbox] + arguments, environment: env)
    }

    /// Waits until `/readyz` answers.
    func waitUntilReady(seconds: Double = 20) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let (status, _) = try? await request("GET", "/readyz"), status == 200 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Waits until every sink in `/readyz` has nothing pending.
    func waitUntilDrained(seconds: Double = 30) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let (_, body) = try? await request("GET", "/readyz"),
                let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                let sinks = object["sinks"] as? [[String: Any]], sinks.allSatisfy({ ($0["pending"] as? Int) == 0 })
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> (Int, Data) {
        let (status, data, _) = try await Self.request(port: port, method, path, body: body, headers: headers)
        return (status, data)
    }

    /// One request to 127.0.0.1:`port` through URLSession (keep-alive, like a
    /// real client), for tasks that must not capture the process object.
    static func request(port: Int, _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:])
        async throws -> (status: Int, body: Data, response: HTTPURLResponse?)
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 15
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, data, http)
    }

    /// SIGTERM, then waits; returns the exit status (or nil when it did not stop in time).
    func terminate(seconds: Double = 20) -> Int32? {
        child.terminate(seconds: seconds)
    }

    /// SIGKILL, and waits for the exit.
    func kill() {
        child.kill()
    }

    /// Kills serve and removes its outbox (also one the caller gave).
    func remove() {
        kill()
        try? FileManager.default.removeItem(atPath: outbox)
    }
}
