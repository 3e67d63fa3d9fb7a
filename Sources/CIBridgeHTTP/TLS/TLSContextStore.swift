import NIOSSL
import Synchronization

/// The TLS context new connections handshake with, swapped whole by a
/// reload. A connection keeps the context it started with (NIOSSL holds a
/// reference), so a reload never touches open connections.
public final class TLSContextStore: Sendable {
    /// Confinement: read once per accepted connection, written by a reload.
    private let material: Mutex<TLSMaterial>

    public init(_ material: TLSMaterial) {
        self.material = Mutex(material)
    }

    /// What new connections use now.
    public var current: TLSMaterial { material.withLock { $0 } }

    var context: NIOSSLContext { material.withLock { $0.context } }

    /// Replaces what new connections use.
    public func replace(with material: TLSMaterial) {
        self.material.withLock { $0 = material }
    }
}
