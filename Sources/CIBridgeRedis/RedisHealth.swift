import Logging
import Synchronization

/// The sink's view of Redis, shared by its connections so that an outage is
/// logged as one line, and its end as one more, however many connections see it.
/// Its end also calls `onRecovery` once (the sink makes its waiting retries due).
final class RedisHealth: Sendable {
    /// The last failure, or `nil` while connected. Taken by every connection's
    /// queue and the probe to compare and swap it; the log line is written after.
    private let lastError = Mutex<RedisError?>(nil)
    private let logger: Logger
    private let onRecovery: @Sendable () -> Void

    init(logger: Logger, onRecovery: @escaping @Sendable () -> Void = {}) {
        self.logger = logger
        self.onRecovery = onRecovery
    }

    /// Whether the last attempt reached Redis.
    var isConnected: Bool { lastError.withLock { $0 == nil } }

    /// A connection failed with `error`; logged when it differs from the last one.
    func failed(_ error: RedisError) {
        let isNew = lastError.withLock { last -> Bool in
            defer { last = error }
            return last != error
        }
        if isNew {
            logger.error("redis unavailable; records stay in the outbox and are retried", metadata: ["error": "\(error.message)"])
        }
    }

    /// A connection is (back) up; logged once after an outage, with the server it reached.
    func connected(_ locator: RedisPrimaryLocator) {
        let wasDown = lastError.withLock { last -> Bool in
            defer { last = nil }
            return last != nil
        }
        if wasDown {
            logger.info("redis connected again", metadata: ["url": "\(locator.currentServer.map { "\($0)" } ?? "\(locator.target)")"])
            onRecovery()
        }
    }
}
