import CIBridgeOutbox
import Synchronization

/// The parts waiting for one Redis connection, handed over by the sink's loop.
///
/// Unlike an `AsyncStream` it can be asked "is there another part right now?"
/// without waiting (``poll()``): a lane sends a second pipeline while the
/// first one's replies are still coming only when there is one to send, and
/// never holds replies back waiting for more work.
final class RedisLaneQueue: Sendable {
    private struct State {
        var parts: [[OutboxRecord]] = []
        var head = 0
        var finished = false
        var waiter: CheckedContinuation<[OutboxRecord]?, Never>?

        mutating func take() -> [OutboxRecord]? {
            guard head < parts.count else { return nil }
            let part = parts[head]
            parts[head] = []  // the lane owns it now: do not keep its records alive here
            head += 1
            if head == parts.count {
                parts.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 && head * 2 >= parts.count {
                parts.removeFirst(head)
                head = 0
            }
            return part
        }
    }

    /// Taken by the sink's loop (push, finish) and the lane's task (next, poll)
    /// for queue operations only; a waiting lane parks outside it, in a continuation.
    private let state = Mutex(State())

    /// Queues `part` (or hands it straight to a waiting lane).
    func push(_ part: [OutboxRecord]) {
        let waiter = state.withLock { s -> CheckedContinuation<[OutboxRecord]?, Never>? in
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.parts.append(part)
            return nil
        }
        waiter?.resume(returning: part)
    }

    /// No more parts: ``next()`` returns `nil` once the queue is empty.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<[OutboxRecord]?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next part, waiting for one; `nil` once finished and empty. One caller at a time.
    func next() async -> [OutboxRecord]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> [OutboxRecord]?? in
                if let part = s.take() { return .some(part) }
                if s.finished { return .some(nil) }
                s.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The next part if one is queued now.
    func poll() -> [OutboxRecord]? {
        state.withLock { $0.take() }
    }
}
