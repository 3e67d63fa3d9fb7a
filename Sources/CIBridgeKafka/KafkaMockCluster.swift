internal import CRdKafka

/// Owns a librdkafka mock cluster: a real Kafka protocol listener on
/// 127.0.0.1 (random ports), for development and tests only. It keeps only a
/// few megabytes per partition; count deliveries by high-water offsets.
///
/// `@unchecked Sendable`: librdkafka's mock cluster API is thread-safe (it
/// posts every call to the cluster's own thread); this class owns the handle
/// and destroys it once, in `deinit`.
public final class KafkaMockCluster: @unchecked Sendable {
    private let host: OpaquePointer
    private let cluster: OpaquePointer
    /// `host:port,host:port,…` for clients.
    public let bootstrapServers: String
    public let brokerCount: Int

    /// Starts a cluster of `brokers` brokers (ids 1…brokers).
    public init(brokers: Int = 3) throws(KafkaError) {
        let conf = try KafkaClientConfig.make(["log_level": "3"])
        rd_kafka_conf_set_log_cb(conf) { _, _, _, _ in }
        var errorText = [CChar](repeating: 0, count: 512)
        guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(configuration: "cannot create the mock cluster's client")
        }
        guard let cluster = rd_kafka_mock_cluster_new(host, Int32(brokers)) else {
            rd_kafka_destroy(host)
            throw KafkaError(configuration: "cannot create a mock cluster")
        }
        self.host = host
        self.cluster = cluster
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    /// Creates `topic` with `partitions` partitions (topics are otherwise auto-created).
    public func createTopic(_ topic: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster, topic, Int32(partitions), Int32(replicationFactor))
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "create topic \(topic)") }
    }

    /// Takes broker `id` down: its connections close and it accepts none.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_broker_set_down(cluster, id)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "broker \(id) down") }
    }

    public func setBrokerUp(_ id: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_broker_set_up(cluster, id)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "broker \(id) up") }
    }

    /// Every broker down, or up.
    public func setAllBrokers(up: Bool) throws(KafkaError) {
        for id in 1...Int32(brokerCount) {
            if up { try setBrokerUp(id) } else { try setBrokerDown(id) }
        }
    }

    /// Adds round-trip latency to broker `id`.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int) throws(KafkaError) {
        let error = rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds))
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "broker \(id) rtt") }
    }

    /// The next requests of `apiKey` (0 = Produce) fail with `errors`, in order.
    public func pushRequestErrors(apiKey: Int16, _ errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, &codes)
    }

    /// Moves the leadership of `topic`/`partition` to broker `id`.
    public func setPartitionLeader(_ topic: String, partition: Int32, broker id: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_partition_set_leader(cluster, topic, partition, id)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "leader of \(topic)[\(partition)]") }
    }

    /// Error codes, for ``pushRequestErrors(apiKey:_:)``.
    public enum ErrorCode {
        public static let notLeaderForPartition = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue
        public static let requestTimedOut = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
        public static let messageTooLarge = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue
        public static let topicAuthorizationFailed = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue
        public static let notEnoughReplicas = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue
    }
}
