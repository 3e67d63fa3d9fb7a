import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM, turned into a flag long-running commands poll.
enum Interruption {
    private static let flag = Atomic<Bool>(false)
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Starts catching SIGINT and SIGTERM (call once, from the main thread).
    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { flag.store(true, ordering: .releasing) }
            source.resume()
            sources.append(source)
        }
    }

    static var requested: Bool { flag.load(ordering: .acquiring) }

    /// Blocks until a signal arrives.
    static func wait() {
        while !requested { usleep(50_000) }
    }
}
