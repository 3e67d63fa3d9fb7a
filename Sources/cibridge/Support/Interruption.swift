import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM, turned into a flag long-running commands poll.
enum Interruption {
    /// Set from the signal handler: a lock-free atomic store is async-signal-safe.
    static let flag = Atomic<Bool>(false)

    /// Starts catching SIGINT and SIGTERM.
    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in Interruption.flag.store(true, ordering: .releasing) }
        }
    }

    static var requested: Bool { flag.load(ordering: .acquiring) }

    /// Blocks until a signal arrives.
    static func wait() {
        while !requested { usleep(50_000) }
    }
}
