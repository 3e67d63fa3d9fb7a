internal import CRdKafka

/// Builds an `rd_kafka_conf_t` from properties; every failure names the property.
enum KafkaClientConfig {
    /// A new configuration with `properties` set; the caller owns it until `rd_kafka_new` takes it.
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(configuration: "rd_kafka_conf_new failed") }
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            var errorText = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(configuration: "kafka property \(name): \(reason)")
            }
        }
        return conf
    }

    /// Words in property names whose values are secrets.
    static let secretMarkers = ["password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key", "token"]

    /// `properties` with secret values replaced by `***`, for logs and `config check`.
    static func redacted(_ properties: [String: String]) -> [String: String] {
        properties.reduce(into: [:]) { result, pair in
            let lower = pair.key.lowercased()
            result[pair.key] = secretMarkers.contains { lower.contains($0) } ? "***" : pair.value
        }
    }
}
