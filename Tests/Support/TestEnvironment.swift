import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the machine running the tests can do, for `.enabled(if:)` and
/// `.disabled(if:)` traits: a test that needs something missing is reported
/// as skipped with its reason instead of passing without checking anything.
///
/// Each answer is computed once, cheaply and without side effects, because
/// the test runner evaluates traits while it builds the test plan.
public enum TestEnvironment {
    /// Whether this process may mount a tmpfs: root with `CAP_SYS_ADMIN` in
    /// its effective set (a container's root usually lacks it).
    public static let canMountTmpfs: Bool = getuid() == 0 && hasEffectiveCapability(21)  // CAP_SYS_ADMIN

    /// Where Debian's libfaketime lives (`scripts/install-deps` installs it).
    public static let libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    /// Whether libfaketime is installed at `libfaketime`.
    public static let hasLibfaketime: Bool = FileManager.default.fileExists(atPath: libfaketime)

    /// Whether the tests run under AddressSanitizer or ThreadSanitizer (their
    /// options are set by `scripts/sanitize`).
    public static let underSanitizer: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["ASAN_OPTIONS"] != nil || environment["TSAN_OPTIONS"] != nil
    }()

    /// Whether capability number `bit` is in the `CapEff` mask of /proc/self/status.
    private static func hasEffectiveCapability(_ bit: Int) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << UInt64(bit)) != 0
    }
}
