internal import CRdKafka

/// One record read from Kafka.
public struct KafkaRecord: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]
    public let value: [UInt8]
    public let headers: [(name: String, value: [UInt8])]

    /// The first header named `name`.
    public func header(_ name: String) -> [UInt8]? {
        headers.first { $0.name == name }?.value
    }
}

/// Owns a librdkafka consumer (`rd_kafka_t`), used from one task at a time:
/// with a group it subscribes (offsets committed by the group), without one it
/// assigns every partition of the topics itself, from the beginning or the end.
/// The handle is closed and destroyed in `deinit`.
public final class KafkaConsumer {
    private let handle: OpaquePointer
    private let grouped: Bool

    public init(
        brokers: String, topics: [String], group: String? = nil, fromBeginning: Bool = false,
        properties: [String: String] = [:]
    ) throws(KafkaError) {
        var settings = properties
        settings["bootstrap.servers"] = brokers
        settings["group.id"] = group ?? "cibridge-consume-unused"
        settings["auto.offset.reset"] = fromBeginning ? "earliest" : "latest"
        settings["enable.partition.eof"] = "false"
        settings["log_level"] = settings["log_level"] ?? "3"
        let conf = try KafkaClientConfig.make(settings)
        rd_kafka_conf_set_log_cb(conf) { _, _, _, _ in }
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(configuration: "cannot create the Kafka consumer: \(reason)")
        }
        self.handle = handle
        self.grouped = group != nil
        rd_kafka_poll_set_consumer(handle)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let _ = group {
            for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
            let error = rd_kafka_subscribe(handle, list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "subscribe") }
        } else {
            for topic in topics {
                let count = try partitionCount(topic)
                for partition in 0..<count {
                    let element = rd_kafka_topic_partition_list_add(list, topic, partition)
                    element?.pointee.offset = Int64(fromBeginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END)
                }
            }
            let error = rd_kafka_assign(handle, list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "assign") }
        }
    }

    deinit {
        if grouped { rd_kafka_consumer_close(handle) }
        rd_kafka_destroy(handle)
    }

    /// The next record, or `nil` when none arrives within `timeout` milliseconds.
    public func poll(timeoutMilliseconds: Int32) throws(KafkaError) -> KafkaRecord? {
        guard let message = rd_kafka_consumer_poll(handle, timeoutMilliseconds) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
            throw KafkaError(m.err, "consume")
        }
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) } ?? []
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        var headers: [(name: String, value: [UInt8])] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let data = bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append((name.map { String(cString: $0) } ?? "", data))
                index += 1
            }
        }
        return KafkaRecord(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value, headers: headers)
    }

    /// The number of partitions of `topic` (it is created if the cluster auto-creates topics).
    public func partitionCount(_ topic: String, timeoutMilliseconds: Int32 = 5000) throws(KafkaError) -> Int32 {
        try Self.partitionCount(handle: handle, topic: topic, timeoutMilliseconds: timeoutMilliseconds)
    }

    static func partitionCount(handle: OpaquePointer, topic: String, timeoutMilliseconds: Int32) throws(KafkaError) -> Int32 {
        guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else { throw KafkaError(configuration: "bad topic \(topic)") }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle, 0, topicHandle, &metadata, timeoutMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(error, "metadata for \(topic)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0 else { return 0 }
        let entry = metadata.pointee.topics[0]
        if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(entry.err, "topic \(topic)") }
        return entry.partition_cnt
    }

    /// Low and high watermark offsets of a partition, from the broker.
    public func watermarks(_ topic: String, partition: Int32, timeoutMilliseconds: Int32 = 5000) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let error = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeoutMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, "watermarks of \(topic)[\(partition)]") }
        return (low, high)
    }
}
