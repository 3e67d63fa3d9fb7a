import CIBridgeConfiguration
import Foundation
import NIOPosix
import NIOSSL

/// The listener's TLS files, read and checked, and the `NIOSSLContext` made
/// from them. Made at start, at every reload, and by `cibridge config check`,
/// so all three accept and refuse the same files.
public struct TLSMaterial: Sendable {
    /// The context every new connection's handshake uses.
    public let context: NIOSSLContext
    /// The server certificate (the chain's first).
    public let leaf: NIOSSLCertificate
    /// How many certificates the chain holds (the leaf and intermediates).
    public let chainLength: Int
    /// The end of the leaf's validity.
    public let notValidAfter: Date
    public let notValidBefore: Date
    /// How many client CA certificates were read (0 without mutual TLS).
    public let clientCAs: Int

    /// TLS 1.2 and later. For TLS 1.2 only forward-secret AEAD suites, as in
    /// Mozilla's "intermediate" profile; TLS 1.3's suites are all modern and
    /// not configurable here.
    static let cipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// Reads the files `tls` names and builds the server context. Throws
    /// ``TLSError`` naming the file; an expired certificate is not an error
    /// here (see ``checkValidity(at:)``): serving it is the operator's call,
    /// and the metric and alert say it.
    public init(_ tls: BridgeConfiguration.TLS) throws(TLSError) {
        let chain = try Self.certificates(tls.certificate, key: "http.tls.certificate")
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: try Self.read(tls.key, key: "http.tls.key"), format: .pem)
        } catch let error as TLSError {
            throw error
        } catch {
            throw TLSError(.invalid, "http.tls.key: \(tls.key) is not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = Self.cipherSuites
        var clientCAs: [NIOSSLCertificate] = []
        if let clientCA = tls.clientCA {
            clientCAs = try Self.certificates(clientCA, key: "http.tls.client_ca")
            configuration.trustRoots = .certificates(clientCAs)
            // A server checks its clients' chains, not a host name.
            configuration.certificateVerification = tls.clientAuth == .require ? .noHostnameVerification : .optionalVerification
            // Tell clients which CAs are accepted, so one with several certificates picks the right one.
            configuration.sendCANameList = true
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            // The key already parsed above, so BoringSSL refusing it now means it
            // is not the certificate's: it checks the pair when the context is made
            // (KEY_VALUES_MISMATCH), which NIOSSL reports as failedToLoadPrivateKey.
            if case NIOSSLError.failedToLoadPrivateKey = error {
                throw TLSError(.keyMismatch, "http.tls.key: \(tls.key) is not the private key of \(tls.certificate)")
            }
            throw TLSError(.invalid, "http.tls: cannot use \(tls.certificate) with \(tls.key) (\(error))")
        }
        leaf = chain[0]
        chainLength = chain.count
        notValidAfter = Date(timeIntervalSince1970: TimeInterval(chain[0].notValidAfter))
        notValidBefore = Date(timeIntervalSince1970: TimeInterval(chain[0].notValidBefore))
        self.clientCAs = clientCAs.count
    }

    /// The same, read on NIO's thread pool: the file reads and key parsing
    /// block, and must not run on the cooperative pool (serve's start, reloads).
    /// Throws `CancellationError` when the calling task is cancelled first.
    public static func load(_ tls: BridgeConfiguration.TLS) async throws -> Result<TLSMaterial, TLSError> {
        try await NIOThreadPool.singleton.runIfActive { Result { () throws(TLSError) in try TLSMaterial(tls) } }
    }

    /// Throws ``TLSError/Code/expired`` when `date` is outside the leaf's validity.
    public func checkValidity(at date: Date = Date()) throws(TLSError) {
        if date > notValidAfter {
            throw TLSError(.expired, "http.tls.certificate expired on \(Self.format(notValidAfter))")
        }
        if date < notValidBefore {
            throw TLSError(.expired, "http.tls.certificate is not valid before \(Self.format(notValidBefore))")
        }
    }

    /// One line for humans: subject, chain, validity and days left.
    public func summary(now: Date = Date()) -> String {
        let days = Int((notValidAfter.timeIntervalSince(now) / 86_400).rounded(.down))
        let left = days >= 0 ? "\(days) days left" : "EXPIRED \(-days) days ago"
        return "\(Self.subject(leaf)), \(chainLength) certificate\(chainLength == 1 ? "" : "s") in the chain, valid "
            + "\(Self.format(notValidBefore)) to \(Self.format(notValidAfter)) (\(left))"
            + (clientCAs > 0 ? "; \(clientCAs) client CA certificate\(clientCAs == 1 ? "" : "s")" : "")
    }

    static func subject(_ certificate: NIOSSLCertificate) -> String {
        let names = certificate.subjectName
        let commonName = names.first { $0.type == .commonName }?.value
        return commonName.map { "CN=\($0)" } ?? "(no common name)"
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func read(_ path: String, key: String) throws(TLSError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSError(.unreadable, "\(key): cannot read \(path)")
        }
        return Array(data)
    }

    static func certificates(_ path: String, key: String) throws(TLSError) -> [NIOSSLCertificate] {
        let bytes = try read(path, key: key)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TLSError(.invalid, "\(key): \(path) is not PEM certificates (\(error))")
        }
        guard !certificates.isEmpty else { throw TLSError(.invalid, "\(key): \(path) holds no PEM certificate") }
        return certificates
    }
}
