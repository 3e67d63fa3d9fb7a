import CIBridgeTestSupport
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `cibridge serve` process on a free loopback port, for end-to-end tests.
final class ServeProcess {
    let port: Int
    let outbox: String
    let process = Process()
    let errors = ByteCollector()

    init(arguments: [String], outbox: String? = nil, environment: [String: String] = [:]) throws {
        ignoreBrokenPipes()
        port = RedisServer.freePort()
        self.outbox = outbox ?? NSTemporaryDirectory() + "cibridge-serve-" + UUID().uuidString
        process.executableURL = CLIRunner.productsDirectory.appendingPathComponent("cibridge")
        process.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--outbox", self.outbox] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CIBRIDGE_") }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let errors = self.errors
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { errors.append(data) }
        }
        try process.run()
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
        process.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func remove() {
        kill()
        try? FileManager.default.removeItem(atPath: outbox)
    }
}
