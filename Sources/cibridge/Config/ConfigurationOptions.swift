import ArgumentParser
import CIBridgeConfiguration
import Foundation

/// The configuration flags shared by the commands that run the bridge.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "HTTP listen address, host:port (http.listen).") var listen: String?
    @Option(help: "Outbox directory (outbox.dir).") var outbox: String?
    @Option(name: .customLong("kafka-brokers"), help: "Kafka bootstrap servers, or 'embedded' (kafka.brokers).") var kafkaBrokers: String?
    @Option(name: .customLong("redis-url"), help: "redis://, unix://, redis-sentinel:// or redis-cluster:// URL (redis.url).") var redisURL: String?
    @Option(name: .customLong("redis-min-replicas"), help: "Replicas a Redis write must reach before it counts (redis.min_replicas).")
    var redisMinReplicas: Int?
    @Option(help: "Shared secret callers must present (http.token); prefer CIBRIDGE_HTTP_TOKEN.") var token: String?
    @Option(name: .customLong("log-format"), help: "text or json (log.format).") var logFormat: String?
    @Option(name: .customLong("tls-certificate"), help: "PEM certificate (then intermediates) to serve HTTPS with (http.tls.certificate).")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-certificate (http.tls.key).") var tlsKey: String?
    @Option(name: .customLong("tls-client-ca"), help: "PEM CA certificates client certificates must chain to (http.tls.client_ca).")
    var tlsClientCA: String?

    /// Loads the file, applies `CIBRIDGE_*` variables, then these flags.
    /// - Parameter requireSink: whether at least one sink must be configured.
    func load(
        environment: [String: String] = ProcessInfo.processInfo.environment, requireSink: Bool = true
    ) throws(ConfigurationError) -> BridgeConfiguration {
        var yaml: String?
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw ConfigurationError(key: "--config", "cannot read \(config)")
            }
            yaml = String(decoding: data, as: UTF8.self)
        }
        var overrides: [(key: String, value: String)] = []
        if let listen { overrides.append(("http.listen", listen)) }
        if let outbox { overrides.append(("outbox.dir", outbox)) }
        if let kafkaBrokers { overrides.append(("kafka.brokers", kafkaBrokers)) }
        if let redisURL { overrides.append(("redis.url", redisURL)) }
        if let redisMinReplicas { overrides.append(("redis.min_replicas", String(redisMinReplicas))) }
        if let token { overrides.append(("http.token", token)) }
        if let logFormat { overrides.append(("log.format", logFormat)) }
        if let tlsCertificate { overrides.append(("http.tls.certificate", tlsCertificate)) }
        if let tlsKey { overrides.append(("http.tls.key", tlsKey)) }
        if let tlsClientCA { overrides.append(("http.tls.client_ca", tlsClientCA)) }
        return try ConfigurationLoader.load(yaml: yaml, environment: environment, overrides: overrides, requireSink: requireSink)
    }
}
