import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fresh, empty directory under the system temporary directory, named
/// `cibridge-<label>-XXXXXX` so a leftover one says which test made it.
///
/// `remove()` deletes it; `deinit` does too, as a backstop for owners that
/// never call `remove()` (a testbed whose initialiser threw half-way). Keep
/// the object referenced for as long as the directory is used — Swift may end
/// an object's life after its last use, so a test writes
/// `defer { directory.remove() }` rather than relying on scope.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path, without a trailing slash.
    public let path: String

    /// Creates the directory; `label` names what it is for (`"outbox"`, `"serve"`).
    public init(_ label: String) throws {
        // mkdtemp instead of a UUID name: the kernel guarantees the name is new.
        var template = Array((NSTemporaryDirectory() + "cibridge-\(label)-XXXXXX").utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: String(cString: template), "errno": errno])
        }
        path = String(cString: created)
    }

    deinit {
        remove()
    }

    /// Deletes the directory and everything in it; safe to call more than once.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the directory (it need not exist).
    public func file(_ name: String) -> String {
        path + "/" + name
    }

    /// The names in the subdirectory `sub`, sorted; empty when it does not exist.
    public func files(_ sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: file(sub))) ?? []).sorted()
    }
}
