import Logging
import ServiceLifecycle
import UnixSignals

/// Traps SIGHUP when nothing reloads on it (no `http.tls`): its default
/// action would end the process without a graceful stop, and "send SIGHUP to
/// reload" is a habit of log rotation and configuration tools. With TLS,
/// ``TLSReloader`` traps it instead.
struct HangupService: Service {
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals {
                    logger.notice("SIGHUP: nothing to reload (only http.tls files are reloaded); still running")
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
