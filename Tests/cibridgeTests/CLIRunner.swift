import CIBridgeTestSupport
import Foundation

/// Runs the built `cibridge` binary the way a user does, and captures what it printed.
enum CLIRunner {
    /// The directory holding the test bundle also holds the products it depends on.
    static let productsDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()

    /// The built `cibridge` binary.
    static let executable = productsDirectory.appendingPathComponent("cibridge").path

    /// The repository root, from this source file.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = repositoryRoot.appendingPathComponent("Tests/CIBridgeCoreTests/Fixtures")

    static func fixture(_ path: String) -> String {
        fixtures.appendingPathComponent(path).path
    }

    /// Runs `cibridge` with `arguments` and optional standard input; stops it after `timeout` seconds.
    /// Runs cibridge; `environment` adds to the inherited variables, without the developer's `CIBRIDGE_*`.
    static func run(
        _ arguments: [String], stdin: Data? = nil, timeout: Double = 60, environment: [String: String]? = nil
    ) throws -> ChildProcess.Result {
        var merged: [String: String]?
        if let environment {
            merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CIBRIDGE_") }.merging(environment) { $1 }
        }
        return try ChildProcess.run(executable, arguments, environment: merged, stdin: stdin, timeout: timeout)
    }
}
