import Logging
import Metrics
import Synchronization

/// Reports failures of the outbox's background work (maintenance, cursor
/// writes, dead-letter writes, reads for sinks), which nobody awaits: each is
/// counted in `cibridge_outbox_errors_total{operation}`, and logged once per
/// change, so a disk that stays broken is one log line, not one every 200 ms.
final class ErrorReporter: Sendable {
    private let logger: Logger
    /// The last error logged per operation; taken only to compare and swap,
    /// from whichever thread failed.
    private let lastLogged = Mutex<[String: String]>([:])
    /// How many operations are failing now: ``cleared(_:)`` is called after
    /// every success, on hot paths too, and must cost nothing while all is well.
    private let failing = Atomic<Int>(0)

    init(logger: Logger) {
        self.logger = logger
    }

    /// `operation` failed with `error`.
    func report(_ error: any Error, during operation: String) {
        Counter(label: "cibridge_outbox_errors_total", dimensions: [("operation", operation)]).increment()
        let text = "\(error)"
        let isNew = lastLogged.withLock { last in
            defer { last[operation] = text }
            if last[operation] == nil { failing.add(1, ordering: .relaxed) }
            return last[operation] != text
        }
        if isNew {
            logger.error("outbox: \(operation) failed", metadata: [
                "operation": "\(operation)", "code": "\((error as? OutboxError)?.code.rawValue ?? "error")", "error": "\(text)",
            ])
        }
    }

    /// `operation` succeeded: its next failure is logged again.
    func cleared(_ operation: @autoclosure () -> String) {
        guard failing.load(ordering: .relaxed) > 0 else { return }
        let operation = operation()
        let wasFailing = lastLogged.withLock { last in
            guard last.removeValue(forKey: operation) != nil else { return false }
            failing.subtract(1, ordering: .relaxed)
            return true
        }
        if wasFailing { logger.notice("outbox: \(operation) works again", metadata: ["operation": "\(operation)"]) }
    }
}
