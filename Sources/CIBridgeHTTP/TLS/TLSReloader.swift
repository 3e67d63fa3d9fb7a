import CIBridgeConfiguration
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// Reloads the listener's certificate, key and client CAs without a restart:
/// when the files change (checked every `http.tls.reload_interval`), and when
/// ``reload(reason:)`` is called (serve calls it on SIGHUP). New connections
/// get the new context; open ones keep theirs.
///
/// A change is reloaded once the files have stayed the same for one
/// interval: a renewal replaces the certificate and the key one after the
/// other, and reading between the two would fail for nothing. A reload that
/// fails (a half-written file, a key that is not the certificate's) keeps the
/// previous certificate and logs one line; it is tried again at the next
/// change or SIGHUP, so a failing state is not logged every interval.
public struct TLSReloader: Service {
    let tls: BridgeConfiguration.TLS
    let store: TLSContextStore
    let logger: Logger
    let metrics: BridgeMetrics?

    public init(tls: BridgeConfiguration.TLS, store: TLSContextStore, logger: Logger, metrics: BridgeMetrics?) {
        self.tls = tls
        self.store = store
        self.logger = logger
        self.metrics = metrics
        metrics?.recordCertificate(store.current)
    }

    /// Watches the files until the service group stops.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { await watchFiles() }
    }

    /// Polls the files' signatures until cancelled; reloads a change once it is stable.
    func watchFiles() async {
        guard var loaded = try? await signature() else { return }
        var previous = loaded
        while true {
            do {
                try await Task.sleep(for: .milliseconds(tls.reloadIntervalMilliseconds))
            } catch {
                return  // cancelled: the service is stopping
            }
            let now: [String]
            do {
                now = try await signature()
            } catch {
                return  // cancelled (the thread pool refuses work then)
            }
            // Changed since the last reload, and the same as one interval ago: settled.
            if now != loaded, now == previous {
                loaded = now
                await reload(reason: "files changed")
            }
            previous = now
        }
    }

    /// Reads the files again and, when they are usable, switches new connections to them.
    public func reload(reason: String) async {
        let result: Result<TLSMaterial, TLSError>
        do {
            result = try await TLSMaterial.load(tls)
        } catch {
            return  // cancelled: the service is stopping, nothing was attempted
        }
        switch result {
        case .success(let material):
            store.replace(with: material)
            metrics?.recordCertificate(material)
            metrics?.recordTLSReload(succeeded: true)
            logger.notice("TLS certificate reloaded", metadata: ["reason": "\(reason)", "certificate": "\(material.summary())"])
        case .failure(let error):
            metrics?.recordTLSReload(succeeded: false)
            logger.error(
                "TLS reload failed; new connections keep the previous certificate",
                metadata: ["reason": "\(reason)", "code": "\(error.code)", "error": "\(error.message)"])
        }
    }

    /// What identifies the files' contents without reading them: inode, size
    /// and modification time of each (a rename over the file, as cert-manager
    /// and certbot do, changes the inode). A missing file is part of the
    /// signature, not an error: the reload that follows says what is wrong.
    func signature() async throws -> [String] {
        let paths = [tls.certificate, tls.key] + (tls.clientCA.map { [$0] } ?? [])
        return try await NIOThreadPool.singleton.runIfActive {
            paths.map { path -> String in
                var info = stat()
                guard stat(path, &info) == 0 else { return "\(path): missing (errno \(errno))" }
                return "\(path): \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            }
        }
    }
}
