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
    static func run(_ arguments: [String], stdin: Data? = nil, timeout: Double = 60) throws -> ChildProcess.Result {
        try ChildProcess.run(executable, arguments, stdin: stdin, timeout: timeout)
    }
}
