import Foundation
import Synchronization

/// A thread of the outbox's own that runs the sinks' reads of the log.
///
/// Why not a dispatch queue: reads are on the sinks' critical path, and a
/// queue's work waits for libdispatch to find it a thread; with many threads
/// blocked elsewhere in the process (child-process pipes, blocking sockets)
/// that was seen to take over a second (the crash test's 0.3 s reads timed
/// out under a full parallel test run). A thread that waits on a semaphore
/// runs each read as soon as it is submitted. Reads are `pread`s of the page
/// cache, so one thread keeps up with every sink of an outbox.
final class ReaderThread: Sendable {
    private let jobs = Jobs()

    /// The jobs waiting and whether the thread should end. The lock is taken
    /// briefly by submitters and by the thread between jobs, never across one.
    private final class Jobs: Sendable {
        let state = Mutex<(waiting: [@Sendable () -> Void], stopped: Bool)>(([], false))
        let wakeUp = DispatchSemaphore(value: 0)
    }

    init(name: String) {
        let thread = Thread { [jobs] in
            while true {
                jobs.wakeUp.wait()
                let next = jobs.state.withLock { s -> (job: (@Sendable () -> Void)?, stop: Bool) in
                    if s.waiting.isEmpty { return (nil, s.stopped) }
                    return (s.waiting.removeFirst(), false)
                }
                if next.stop { return }
                next.job?()
            }
        }
        thread.name = name
        thread.start()
    }

    /// Runs `job` on the thread, after the jobs submitted before it; `false`
    /// (and `job` is not run) once the thread is stopping.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = jobs.state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.waiting.append(job)
            return true
        }
        if accepted { jobs.wakeUp.signal() }
        return accepted
    }

    /// Ends the thread once the jobs already submitted have run.
    func stop() {
        jobs.state.withLock { $0.stopped = true }
        jobs.wakeUp.signal()
    }

    deinit {
        stop()
    }
}
