/// Why a refused body could not be kept in the ``Quarantine``.
public struct QuarantineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A file could not be created or written (disk full, permissions, I/O).
        public static let writeFailed = Code(rawValue: "quarantine_write_failed")
        /// The description of the body (headers, reason) could not be encoded.
        public static let encodingFailed = Code(rawValue: "quarantine_encoding_failed")
    }

    /// The stable reason.
    public let code: Code
    /// One line, for humans: the file and what went wrong.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
