import CIBridgeOutbox

/// A Redis failure: what kind, and one line for humans.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Cannot connect, the connection broke, or a timeout (hiredis I/O errors).
        case connection
        /// AUTH refused (wrong password, unknown user).
        case authentication
        /// The server answered with an error reply (`WRONGTYPE …`, `LOADING …`).
        case reply
        /// A `redis://` or `unix://` URL that cannot be used.
        case configuration
        /// A reply cibridge did not expect.
        case protocolError
        /// Fewer replicas confirmed a write (`WAIT`) than `redis.min_replicas` asks for.
        case replication
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The first word of an error reply (`WRONGTYPE`, `LOADING`, `NOSCRIPT`, `OOM`, …).
    public var replyCode: String? {
        guard kind == .reply else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    /// Whether trying again later can succeed. Permanent: a wrong type at the
    /// stream's key (someone else's data is there) and bad configuration.
    public var isRetriable: Bool {
        switch kind {
        case .connection, .authentication, .protocolError, .replication: return true
        case .configuration: return false
        case .reply: return replyCode != "WRONGTYPE"
        }
    }

    /// The stable code of the failure: the reply's first word (`WRONGTYPE`,
    /// `NOSCRIPT`, `OOM`, …) or the kind (`connection`, `authentication`, …).
    public var code: String { replyCode ?? kind.rawValue }

    /// What the failure means for a record: retried, or dead-lettered.
    var outcome: DeliveryOutcome {
        let failure = DeliveryFailure(code: code, message: message)
        return isRetriable ? .retry(failure) : .deadLetter(failure)
    }
}
