#if canImport(Glibc)
import Glibc
#endif
import CIBridgeOutbox

/// What a disk would hold after a power cut, next to what the files hold now.
///
/// Files are tracked by identity (an inode number of our own, following
/// renames), each with its contents as of its last sync and the changes made
/// since. Directories keep the entries created, renamed and removed since
/// their last `fsync`; a removed or replaced file is kept as a hard link in
/// the backup directory so that a cut can bring it back.
struct DiskModel {
    enum Change {
        case write(offset: Int64, bytes: [UInt8])
        case truncate(Int64)
    }

    struct File {
        /// Contents as of the last sync; `nil` until first changed (a file that
        /// existed before the layer: what is on disk then counts as synced).
        var durable: [UInt8]?
        var pending: [Change] = []
        /// The real file holds bytes the disk never will (a failed sync): a cut rewrites it.
        var diverged = false
    }

    enum EntryChange {
        case created(String)
        case madeDirectory(String)
        case renamed(from: String, to: String, replacedBackup: String?)
        case removed(String, backup: String)
    }

    struct PendingEntry {
        let change: EntryChange
        /// Directories whose `fsync` this change still waits for.
        var directories: Set<String>
    }

    let root: String
    let backups: String
    var files: [Int: File] = [:]
    /// The file identity at each path the layer has seen.
    var identities: [String: Int] = [:]
    var nextIdentity = 1
    var nextBackup = 1
    var entries: [PendingEntry] = []

    init(root: String, backups: String) {
        self.root = root
        self.backups = backups
    }

    mutating func identity(of path: String) -> Int {
        if let id = identities[path] { return id }
        let id = nextIdentity
        nextIdentity += 1
        identities[path] = id
        files[id] = File()
        return id
    }

    /// A new, empty file at `path` (created now): nothing of it is synced.
    mutating func created(_ path: String) {
        let id = nextIdentity
        nextIdentity += 1
        identities[path] = id
        files[id] = File(durable: [])
        entries.append(PendingEntry(change: .created(path), directories: [Self.parent(path)]))
    }

    mutating func madeDirectory(_ path: String) {
        entries.append(PendingEntry(change: .madeDirectory(path), directories: [Self.parent(path)]))
    }

    /// Before changing file `id`: its synced contents, read from `file` now if unknown.
    mutating func load(_ id: Int, from file: any OutboxFile) {
        if files[id]?.durable == nil { files[id]?.durable = (try? file.readAll()) ?? [] }
    }

    mutating func record(_ change: Change, on id: Int) {
        files[id]?.pending.append(change)
    }

    mutating func synced(_ id: Int) {
        guard var file = files[id], var contents = file.durable else { return }
        for change in file.pending { Self.apply(change, to: &contents) }
        file.durable = contents
        file.pending = []
        files[id] = file
    }

    /// A failed sync: the unsynced changes will never reach the disk (the page
    /// cache still shows them). Later changes are applied to what is on disk.
    mutating func lostWriteback(_ id: Int) {
        files[id]?.pending = []
        files[id]?.diverged = true
    }

    /// `fsync` of `directory`: every change in it is durable (a change waiting
    /// for two directories, a rename between them, needs both).
    mutating func syncedDirectory(_ directory: String) {
        var kept: [PendingEntry] = []
        for var entry in entries {
            entry.directories.remove(directory)
            if entry.directories.isEmpty {
                Self.dropBackups(of: entry.change)
                // A removed or replaced file is gone for good now: nothing to restore.
                for backup in Self.backups(of: entry.change) {
                    if let id = identities.removeValue(forKey: backup) { files[id] = nil }
                }
            } else {
                kept.append(entry)
            }
        }
        entries = kept
    }

    /// A new name in the backup directory, for a file about to be removed or replaced.
    mutating func takeBackupPath() -> String {
        defer { nextBackup += 1 }
        return backups + "/\(nextBackup)"
    }

    static func apply(_ change: Change, to contents: inout [UInt8]) {
        switch change {
        case .write(let offset, let bytes):
            let end = Int(offset) + bytes.count
            if contents.count < end { contents += [UInt8](repeating: 0, count: end - contents.count) }
            contents.replaceSubrange(Int(offset)..<end, with: bytes)
        case .truncate(let size):
            if contents.count > Int(size) {
                contents.removeSubrange(Int(size)...)
            } else {
                contents += [UInt8](repeating: 0, count: Int(size) - contents.count)
            }
        }
    }

    static func backups(of change: EntryChange) -> [String] {
        switch change {
        case .renamed(_, _, let backup?): [backup]
        case .removed(_, let backup): [backup]
        default: []
        }
    }

    static func dropBackups(of change: EntryChange) {
        switch change {
        case .renamed(_, _, let backup?): unlink(backup)
        case .removed(_, let backup): unlink(backup)
        default: break
        }
    }

    static func parent(_ path: String) -> String { OutboxPaths.parent(of: path) }
}
