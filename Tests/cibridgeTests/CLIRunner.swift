import CIBridgeTestSupport
import Foundation

/// Runs the built `cibridge` binary the way a user does, and captures what it printed.
struct CLIRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// The directory holding the test bundle also holds the products it depends on.
    static let productsDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()

    /// The repository root, from this source file.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = repositoryRoot.appendingPathComponent("Tests/CIBridgeCoreTests/Fixtures")

    static func fixture(_ path: String) -> String {
        fixtures.appendingPathComponent(path).path
    }

    /// Runs `executable` (default: the cibridge binary) with `arguments` and
    /// optional standard input; kills it after `timeout` seconds.
    static func run(
        _ arguments: [String], stdin: Data? = nil, executable: URL? = nil, timeout: TimeInterval = 60
    ) throws -> Result {
        ignoreBrokenPipes()
        let process = Process()
        process.executableURL = executable ?? productsDirectory.appendingPathComponent("cibridge")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Read both pipes concurrently so a chatty child never blocks.
        let group = DispatchGroup()
        let outData = ByteCollector()
        let errData = ByteCollector()
        DispatchQueue.global().async(group: group) { outData.append(out.fileHandleForReading.readDataToEndOfFile()) }
        DispatchQueue.global().async(group: group) { errData.append(err.fileHandleForReading.readDataToEndOfFile()) }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let deadline = DispatchTime.now() + timeout
        if group.wait(timeout: deadline) == .timedOut {
            process.terminate()
            group.wait()
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: outData.text,
            stderr: errData.text)
    }
}
