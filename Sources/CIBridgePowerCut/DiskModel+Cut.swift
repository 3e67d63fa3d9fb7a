#if canImport(Glibc)
import Glibc
#endif
import CIBridgeOutbox

extension DiskModel {
    /// Turns the real files into one state a disk could hold after losing
    /// power now, chosen with `random`:
    /// - each file with unsynced changes keeps none of them, all of them, or
    ///   those before a torn write, of which it keeps a prefix cut at any byte;
    /// - the unsynced directory changes after a random point are undone, newest
    ///   first (a journal keeps a prefix of them).
    ///
    /// `strict` picks the worst state instead: nothing unsynced survives.
    mutating func cut(strict: Bool, using random: inout some RandomNumberGenerator) -> CutReport {
        var report = CutReport()
        let paths = Dictionary(identities.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        for (id, file) in files.sorted(by: { $0.key < $1.key }) where !file.pending.isEmpty || file.diverged {
            guard let durable = file.durable, let path = paths[id] else { continue }
            var contents = durable
            let kept: Int
            var tear = false
            switch strict || file.pending.isEmpty ? 0 : Int.random(in: 0..<3, using: &random) {
            case 0:
                kept = 0
                report.filesDropped += 1
            case 1:
                kept = file.pending.count
                report.filesKept += 1
            default:
                kept = Int.random(in: 0..<file.pending.count, using: &random)
                tear = true
                report.filesTorn += 1
            }
            for change in file.pending.prefix(kept) { Self.apply(change, to: &contents) }
            if tear, case .write(let offset, let bytes) = file.pending[kept], !bytes.isEmpty {
                let torn = Int.random(in: 0..<bytes.count, using: &random)
                Self.apply(.write(offset: offset, bytes: Array(bytes.prefix(torn))), to: &contents)
            }
            if !Self.overwrite(path, with: contents) { report.unwritable.append(path) }
        }
        let keep = entries.isEmpty || strict ? 0 : Int.random(in: 0...entries.count, using: &random)
        report.entriesKept = keep
        report.entriesUndone = entries.count - keep
        for entry in entries[keep...].reversed() { Self.undo(entry.change) }
        for entry in entries[..<keep] { Self.dropBackups(of: entry.change) }
        entries = []
        files = [:]
        identities = [:]
        return report
    }

    /// Whether `path` now holds exactly `contents`.
    static func overwrite(_ path: String, with contents: [UInt8]) -> Bool {
        do {
            let file = try PosixFileSystem().open(path)
            try file.truncate(to: 0)
            try file.write(contents, at: 0)
            return true
        } catch {
            return false
        }
    }

    static func undo(_ change: EntryChange) {
        switch change {
        case .created(let path):
            unlink(path)
        case .madeDirectory(let path):
            removeTree(path)
        case .renamed(let from, let to, let backup):
            rename(to, from)
            if let backup {
                link(backup, to)
                unlink(backup)
            }
        case .removed(let path, let backup):
            link(backup, path)
            unlink(backup)
        }
    }

    /// Removes `path`, a file or a directory with everything in it.
    static func removeTree(_ path: String) {
        if let names = try? PosixFileSystem().list(path) {
            for name in names { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
