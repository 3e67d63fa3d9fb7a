internal import CRdKafka

/// Facts about the librdkafka build this binary is linked against.
public enum KafkaLibrary {
    /// The runtime librdkafka version, as the library reports it (for example `2.0.2`).
    public static var version: String {
        String(cString: rd_kafka_version_str())
    }

    /// The features the linked librdkafka was built with (`builtin.features`),
    /// for example `gzip, snappy, ssl, sasl, zstd, lz4`.
    public static var builtinFeatures: [String] {
        guard let conf = rd_kafka_conf_new() else { return [] }
        defer { rd_kafka_conf_destroy(conf) }
        var size = 0
        guard rd_kafka_conf_get(conf, "builtin.features", nil, &size) == RD_KAFKA_CONF_OK, size > 0 else {
            return []
        }
        var buffer = [CChar](repeating: 0, count: size)
        guard rd_kafka_conf_get(conf, "builtin.features", &buffer, &size) == RD_KAFKA_CONF_OK else {
            return []
        }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.split(separator: ",").map { String($0) }
    }
}
