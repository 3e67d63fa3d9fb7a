internal import CRdKafka

/// A Kafka failure: librdkafka's error code (wrapped), its name, and a message.
public struct KafkaError: Error, Hashable, Sendable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative: local to the client; positive: from the broker).
    public let code: Int32
    /// The symbolic name without the prefix, e.g. `MSG_SIZE_TOO_LARGE` or `_MSG_TIMED_OUT`.
    public let name: String
    public let message: String

    init(_ error: rd_kafka_resp_err_t, _ context: String? = nil) {
        self.code = error.rawValue
        self.name = String(cString: rd_kafka_err2name(error))
        let text = String(cString: rd_kafka_err2str(error))
        self.message = context.map { "\($0): \(text)" } ?? text
    }

    /// An error raised by cibridge itself around librdkafka (configuration, setup).
    init(configuration message: String) {
        self.code = RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue
        self.name = "_INVALID_ARG"
        self.message = message
    }

    public var description: String { "\(name): \(message)" }

    /// Whether delivering again can succeed. Permanent: the message or topic is
    /// wrong or forbidden; such records go to the dead-letter log with this reason.
    public var isRetriable: Bool {
        !Self.permanent.contains(code)
    }

    static let permanent: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION.rawValue,
        RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_RECORD.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS.rawValue,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT.rawValue,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue,
    ]
}
