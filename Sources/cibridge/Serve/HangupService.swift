import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP, trapped for the whole life of serve: it reloads the TLS files
/// (`reload`, from ``TLSReloader``), and without TLS it is logged and
/// ignored. Its default action would end the process without a graceful
/// stop, and "send SIGHUP to reload" is a habit of log rotation and
/// configuration tools.
struct HangupService: Service {
    let logger: Logger
    /// What SIGHUP reloads; nil when there is nothing to reload.
    let reload: (@Sendable () async -> Void)?

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            for await _ in signals {
                if let reload {
                    await reload()
                } else {
                    logger.notice("SIGHUP: nothing to reload (only http.tls files are reloaded); still running")
                }
            }
        }
    }
}
