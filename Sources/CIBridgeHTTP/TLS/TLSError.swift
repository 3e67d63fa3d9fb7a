/// Why the listener's TLS files cannot be used: a stable code and one line naming the file.
public struct TLSError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A file is missing or unreadable.
        public static let unreadable = Code(rawValue: "tls_unreadable")
        /// A file is not PEM of the expected kind (no certificate, not a key).
        public static let invalid = Code(rawValue: "tls_invalid")
        /// The private key is not the certificate's.
        public static let keyMismatch = Code(rawValue: "tls_key_mismatch")
        /// The server certificate's validity has ended (or not begun).
        public static let expired = Code(rawValue: "tls_expired")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
