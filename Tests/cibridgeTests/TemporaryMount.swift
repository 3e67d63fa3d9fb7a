import CIBridgeTestSupport
import Foundation
import Testing

/// A small tmpfs on a temporary directory, for disk-full and read-only
/// faults. Needs `TestEnvironment.canMountTmpfs`; a test asks for that with
/// `.enabled(if: TestEnvironment.canMountTmpfs, TemporaryMount.requirement)`.
struct TemporaryMount {
    /// Why a test that needs a mount is skipped.
    static let requirement: Comment = "mounting a tmpfs needs root and CAP_SYS_ADMIN"

    private let directory: TemporaryDirectory

    /// Where the filesystem is mounted.
    var path: String { directory.path }

    /// Mounts a tmpfs of `sizeMiB`; throws when `mount` fails (the
    /// environment claimed it could, so that is a failure, not a skip).
    init(sizeMiB: Int) throws {
        directory = try TemporaryDirectory("mount")
        try Self.mount(["-t", "tmpfs", "-o", "size=\(sizeMiB)m", "tmpfs", directory.path])
    }

    func remount(readOnly: Bool) throws {
        try Self.mount(["-o", "remount,\(readOnly ? "ro" : "rw")", path])
    }

    /// Unmounts (lazily: serve may still hold files open) and removes the directory.
    func remove() {
        _ = try? ChildProcess.run("/usr/bin/env", ["umount", "-l", path])
        directory.remove()
    }

    private static func mount(_ arguments: [String]) throws {
        let result = try ChildProcess.run("/usr/bin/env", ["mount"] + arguments)
        guard result.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mount \(arguments): \(result.stderr)"])
        }
    }
}
