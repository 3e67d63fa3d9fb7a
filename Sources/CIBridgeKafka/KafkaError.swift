internal import CRdKafka
import CIBridgeOutbox

/// A Kafka failure: librdkafka's error code (typed), its name, and a message.
public struct KafkaError: Error, Hashable, Sendable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative: local to the client;
    /// positive: from the broker), as a value to compare with, not a name.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ error: rd_kafka_resp_err_t) { self.rawValue = error.rawValue }

        /// The producer's local queue is full: it clears in milliseconds.
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        /// The message was not delivered within `message.timeout.ms`.
        public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        /// Every broker is down.
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        /// A bad argument or configuration (cibridge's own setup errors too).
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        /// The message is larger than the broker or the producer allows.
        public static let messageTooLarge = Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        /// The producer was shut down (``KafkaProducer/shutdown()``).
        public static let destroyed = Code(RD_KAFKA_RESP_ERR__DESTROY)
        /// Purged from the queue or from flight (a fatal error's restart): retriable.
        public static let purgedFromQueue = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        public static let purgedInFlight = Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    }

    public let code: Code
    /// The symbolic name without the prefix, e.g. `MSG_SIZE_TOO_LARGE` or `_MSG_TIMED_OUT`.
    public let name: String
    public let message: String

    init(_ error: rd_kafka_resp_err_t, _ context: String? = nil) {
        self.code = Code(error)
        self.name = String(cString: rd_kafka_err2name(error))
        let text = String(cString: rd_kafka_err2str(error))
        self.message = context.map { "\($0): \(text)" } ?? text
    }

    /// An error raised by cibridge itself around librdkafka (configuration, setup).
    init(configuration message: String) {
        self.code = .invalidArgument
        self.name = "_INVALID_ARG"
        self.message = message
    }

    public var description: String { "\(name): \(message)" }

    /// Whether delivering again can succeed. Permanent: the message or topic is
    /// wrong or forbidden; such records go to the dead-letter log with this reason.
    public var isRetriable: Bool {
        !Self.permanent.contains(code)
    }

    static let permanent: Set<Code> = [
        .messageTooLarge, .invalidArgument,
        Code(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION),
        Code(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED),
        Code(RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED),
        Code(RD_KAFKA_RESP_ERR_INVALID_RECORD),
        Code(RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS),
        Code(RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT),
        Code(RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE),
    ]

    /// As a delivery failure for the outbox: librdkafka's name is the code.
    var deliveryFailure: DeliveryFailure {
        // A full local queue clears in milliseconds; anything else uses the outbox's backoff.
        DeliveryFailure(code: name, message: message, retryAfterMilliseconds: code == .queueFull ? 20 : nil)
    }
}
