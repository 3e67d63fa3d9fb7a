import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A process a test starts: standard output and standard error captured
/// while it runs, waits bounded by a timeout, and never outliving the test.
///
/// A child is killed (SIGKILL) by `kill()`, by `deinit` when the last
/// reference goes away — a test that fails or throws half-way still releases
/// it — and, for anything still running when the test process exits, by an
/// `atexit` handler. What none of these covers: Foundation's `Process` cannot
/// set `PR_SET_PDEATHSIG` and starts each child in a process group of its
/// own, so a test process that crashes or is killed by a signal (Ctrl-C, a CI
/// timeout) still leaves its children behind.
public final class ChildProcess {
    /// How a finished process ended and what it printed.
    public struct Result: Sendable {
        /// The exit status, or the signal's number when a signal ended it.
        public let status: Int32
        /// Standard output, decoded as UTF-8.
        public let stdout: String
        /// Standard error, decoded as UTF-8.
        public let stderr: String

        /// The non-empty lines of `stdout`; likewise `stderrLines`.
        public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
        public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// Everything the process wrote to standard output so far.
    public let stdout = ByteCollector()
    /// Everything the process wrote to standard error so far.
    public let stderr = ByteCollector()

    private let process = Process()
    /// Left by each pipe reader at end of file.
    private let readers = DispatchGroup()
    /// False when `run()` threw: such a process has no status to wait for.
    private var launched = false

    /// Starts `executable` (an absolute path) with `arguments`. `environment`
    /// replaces the inherited one when given; `stdin` is written to standard
    /// input, which is closed afterwards (without it, standard input is empty).
    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, stdin: Data? = nil) throws {
        // A child that exits before reading its input must not kill the test with SIGPIPE.
        ignoreBrokenPipes()
        _ = Self.exitHandler
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        process.terminationHandler = { ended in
            _ = ChildProcess.running.withLock { $0.remove(ended.processIdentifier) }
        }
        try process.run()
        launched = true
        // Registered only while running: once it exited, the termination handler may already have run.
        let started = process
        Self.running.withLock { if started.isRunning { $0.insert(started.processIdentifier) } }
        read(output.fileHandleForReading, into: stdout)
        read(errors.fileHandleForReading, into: stderr)
        if let stdin {
            // A thread of its own: a child that writes a lot before it reads would otherwise deadlock with us.
            let writer = input.fileHandleForWriting
            Thread.detachNewThread {
                try? writer.write(contentsOf: stdin)
                try? writer.close()
            }
        }
    }

    deinit {
        kill()
    }

    /// Runs `executable` to completion and returns what it printed. After
    /// `timeout` seconds it gets SIGTERM, and SIGKILL 5 seconds later.
    public static func run(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, stdin: Data? = nil,
        timeout: Double = 60
    ) throws -> Result {
        let child = try ChildProcess(executable, arguments, environment: environment, stdin: stdin)
        if child.wait(seconds: timeout) == nil, child.terminate(seconds: 5) == nil {
            child.kill()
        }
        return Result(status: child.process.terminationStatus, stdout: child.stdout.text, stderr: child.stderr.text)
    }

    /// The child's process ID (also its process group's: Foundation starts it in a group of its own).
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Whether it has not exited yet.
    public var isRunning: Bool { process.isRunning }

    /// Waits up to `seconds` for the process to exit. Returns its status (see
    /// `Result.status`), by which time `stdout` and `stderr` hold all it wrote;
    /// nil when it is still running.
    @discardableResult
    public func wait(seconds: Double) -> Int32? {
        guard launched else { return nil }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
        // The pipes reach end of file just after the exit; bounded because a
        // grandchild that inherited them could hold them open.
        _ = readers.wait(timeout: .now() + 5)
        return process.terminationStatus
    }

    /// Sends `signal` if the process is still running.
    public func signal(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
    }

    /// SIGTERM, then waits up to `seconds`; the exit status, or nil when it did not stop in time.
    @discardableResult
    public func terminate(seconds: Double = 20) -> Int32? {
        signal(SIGTERM)
        return wait(seconds: seconds)
    }

    /// SIGKILL (no chance to clean up) and waits for the exit. Safe to call more than once.
    public func kill() {
        if process.isRunning {
            // The child leads its own process group (Foundation's doing): the group
            // signal also reaches anything it started, the second one the child if not.
            Glibc.kill(-process.processIdentifier, SIGKILL)
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        wait(seconds: 10)
    }

    /// Waits up to `seconds` until standard output contains `text`; whether it did.
    public func waitForStdout(containing text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !stdout.text.contains(text) {
            if Date() >= deadline || !process.isRunning && readers.wait(timeout: .now()) == .success {
                return stdout.text.contains(text)
            }
            usleep(5_000)
        }
        return true
    }

    /// Copies what arrives on `handle` into `collector` until end of file, on a thread of its own.
    private func read(_ handle: FileHandle, into collector: ByteCollector) {
        readers.enter()
        let readers = self.readers
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    collector.append(Data(buffer[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            readers.leave()
        }
    }

    /// Process IDs of children still running, for the exit handler.
    private static let running = Mutex<Set<Int32>>([])

    /// Installed with the first child: kills whatever a test left running when the test process exits.
    private static let exitHandler: Void = {
        _ = atexit {
            for pid in ChildProcess.running.withLock({ $0 }) { Glibc.kill(pid, SIGKILL) }
        }
    }()
}
