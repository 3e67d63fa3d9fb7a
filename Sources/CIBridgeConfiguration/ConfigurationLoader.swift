import CIBridgeKafka
import CIBridgeRedis
import Yams

/// Builds a ``BridgeConfiguration`` from a YAML file, `CIBRIDGE_*` environment
/// variables and flag overrides (each later source wins). Every key is known:
/// a misspelt one is an error naming it, not a silently ignored setting.
public enum ConfigurationLoader {
    /// A value as it arrives: YAML can give lists and maps, variables and flags give text.
    enum Value {
        case text(String)
        case list([String])
        case map([String: String])
    }

    /// Loads and validates.
    /// - Parameters:
    ///   - yaml: the file's contents, if any.
    ///   - environment: the process environment (only `CIBRIDGE_*` is read).
    ///   - overrides: `(key, value)` pairs from flags, e.g. `("http.listen", "127.0.0.1:8080")`.
    ///   - requireSink: whether at least one sink must be configured (`serve`: yes; tools: no).
    public static func load(
        yaml: String?, environment: [String: String] = [:], overrides: [(key: String, value: String)] = [],
        requireSink: Bool = true
    ) throws(ConfigurationError) -> BridgeConfiguration {
        var configuration = BridgeConfiguration()
        if let yaml { try apply(yaml: yaml, to: &configuration) }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("CIBRIDGE_") {
            try apply(variable: name, value: value, to: &configuration)
        }
        for (key, value) in overrides { try set(key, .text(value), on: &configuration, source: key) }
        try validate(configuration, requireSink: requireSink)
        return configuration
    }

    // MARK: - Sources

    static func apply(yaml: String, to configuration: inout BridgeConfiguration) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(key: "(file)", "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { return }
        guard case .mapping(let sections) = root else { throw ConfigurationError(key: "(file)", "the top level must be a mapping of sections") }
        for (sectionNode, body) in sections {
            let section = sectionNode.string ?? ""
            guard ["http", "outbox", "kafka", "redis", "log", "tracing"].contains(section) else {
                throw ConfigurationError(key: section, "unknown section (expected http, outbox, kafka, redis, log or tracing)")
            }
            if isNull(body) { continue }
            guard case .mapping(let entries) = body else { throw ConfigurationError(key: section, "must be a mapping") }
            for (keyNode, valueNode) in entries {
                let key = section + "." + (keyNode.string ?? "")
                // `http.tls` is a mapping of its own keys (`http.tls.certificate`, …); empty (`tls: ~`) leaves it unset.
                if nestedKeys.contains(key), isNull(valueNode) { continue }
                if nestedKeys.contains(key), case .mapping(let nested) = valueNode {
                    for (nestedKey, nestedValue) in nested {
                        let full = key + "." + (nestedKey.string ?? "")
                        try set(full, try value(of: nestedValue, key: full), on: &configuration, source: full)
                    }
                    continue
                }
                try set(key, try value(of: valueNode, key: key), on: &configuration, source: key)
            }
        }
    }

    /// An empty value (`section:`, `~`, `null`): the section or key is left unset.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~"
    }

    static func value(of node: Node, key: String) throws(ConfigurationError) -> Value {
        switch node {
        case .scalar(let scalar): return .text(scalar.string)
        case .sequence(let items):
            var list: [String] = []
            for item in items {
                guard case .scalar(let scalar) = item else { throw ConfigurationError(key: key, "list items must be plain values") }
                list.append(scalar.string)
            }
            return .list(list)
        case .mapping(let pairs):
            var map: [String: String] = [:]
            for (name, item) in pairs {
                guard let name = name.string, case .scalar(let scalar) = item else {
                    throw ConfigurationError(key: key, "map values must be plain values")
                }
                map[name] = scalar.string
            }
            return .map(map)
        case .alias: throw ConfigurationError(key: key, "YAML aliases are not supported")
        }
    }

    /// `CIBRIDGE_HTTP_LISTEN` → `http.listen`; `CIBRIDGE_KAFKA_PROPERTY_SASL_PASSWORD` → property `sasl.password`.
    static func apply(variable name: String, value: String, to configuration: inout BridgeConfiguration) throws(ConfigurationError) {
        let rest = name.dropFirst("CIBRIDGE_".count).lowercased()
        if rest.hasPrefix("kafka_property_") {
            let property = rest.dropFirst("kafka_property_".count).replacingUnderscores(with: ".")
            try set("kafka.properties", .map([property: value]), on: &configuration, source: name)
            return
        }
        guard let key = variableKeys[String(rest)] else {
            throw ConfigurationError(key: name, "unknown variable (see docs/configuration.md for the CIBRIDGE_* names)")
        }
        try set(key, .text(value), on: &configuration, source: name)
    }

    /// Every key, by its environment form (`http_listen`).
    static let variableKeys: [String: String] = Dictionary(uniqueKeysWithValues: keys.map { ($0.replacingDots(with: "_"), $0) })

    // MARK: - Keys

    /// Keys whose YAML value is a mapping of further keys.
    static let nestedKeys: Set<String> = ["http.tls"]

    /// Every key there is, in documentation order.
    public static let keys = [
        "http.listen", "http.token", "http.allow", "http.trusted_proxies", "http.body_limit", "http.read_timeout",
        "http.max_connections", "http.tls.certificate", "http.tls.key", "http.tls.client_ca", "http.tls.client_auth",
        "http.tls.reload_interval",
        "outbox.dir", "outbox.fsync", "outbox.commit_window", "outbox.segment_size", "outbox.max_size", "outbox.min_free",
        "outbox.retention", "outbox.retention_size",
        "kafka.brokers", "kafka.content_mode", "kafka.topic_task_finish", "kafka.topic_workflow_finish",
        "kafka.topic_moderation", "kafka.topic_default", "kafka.properties", "kafka.flush_timeout",
        "redis.url", "redis.topic_streams", "redis.topic_task_finish", "redis.topic_workflow_finish",
        "redis.topic_moderation", "redis.topic_default", "redis.shards", "redis.workflow_streams", "redis.streams",
        "redis.min_replicas", "redis.replica_timeout", "redis.max_length", "redis.dedupe_window", "redis.command_timeout",
        "redis.connections",
        "log.level", "log.format",
        "tracing.otlp_endpoint", "tracing.service_name",
    ]

    static func set(_ key: String, _ value: Value, on c: inout BridgeConfiguration, source: String) throws(ConfigurationError) {
        func text() throws(ConfigurationError) -> String {
            guard case .text(let string) = value else { throw ConfigurationError(key: source, "expected a single value") }
            return string
        }
        func list() throws(ConfigurationError) -> [String] {
            switch value {
            case .list(let items): return items
            case .text(let string): return string.split(separator: ",").map { $0.trimmedSpaces() }.filter { !$0.isEmpty }
            case .map: throw ConfigurationError(key: source, "expected a list")
            }
        }
        var kafka = c.kafka ?? BridgeConfiguration.Kafka(brokers: "")
        var redis = c.redis ?? BridgeConfiguration.Redis(url: "")
        switch key {
        case "http.listen": c.http.listen = try HostPort(parsing: try text(), key: source)
        case "http.token":
            let token = try text()
            c.http.token = token.isEmpty ? nil : token
        case "http.allow": c.http.allow = try cidrs(try list(), source)
        case "http.trusted_proxies": c.http.trustedProxies = try cidrs(try list(), source)
        case "http.body_limit": c.http.bodyLimit = Int(try size(try text(), source))
        case "http.read_timeout": c.http.readTimeoutMilliseconds = try milliseconds(try text(), source)
        case "http.max_connections": c.http.maxConnections = try positive(try text(), source)
        case "http.tls.certificate", "http.tls.key", "http.tls.client_ca", "http.tls.client_auth", "http.tls.reload_interval":
            var tls = c.http.tls ?? BridgeConfiguration.TLS(certificate: "", key: "")
            let given = try text()
            switch key {
            case "http.tls.certificate": tls.certificate = given
            case "http.tls.key": tls.key = given
            case "http.tls.client_ca": tls.clientCA = given.isEmpty ? nil : given
            case "http.tls.client_auth":
                guard let auth = BridgeConfiguration.TLS.ClientAuth(rawValue: given) else {
                    throw ConfigurationError(key: source, "'\(given)' is neither 'require' nor 'optional'")
                }
                tls.clientAuth = auth
                tls.clientAuthGiven = true
            default:
                tls.reloadIntervalMilliseconds = try milliseconds(given, source)
                guard tls.reloadIntervalMilliseconds >= 100 else { throw ConfigurationError(key: source, "at least 100ms") }
            }
            c.http.tls = tls
        case "outbox.dir":
            let directory = try text()
            guard !directory.isEmpty else { throw ConfigurationError(key: source, "must not be empty") }
            c.outbox.directory = directory
        case "outbox.fsync":
            let policy = try text()
            if policy == "always" {
                c.outbox.fsyncIntervalMilliseconds = nil
            } else if policy.hasPrefix("interval:") {
                c.outbox.fsyncIntervalMilliseconds = try milliseconds(String(policy.dropFirst("interval:".count)), source)
            } else {
                throw ConfigurationError(key: source, "'\(policy)' is neither 'always' nor 'interval:<duration>' (e.g. interval:10ms)")
            }
        case "outbox.commit_window":
            c.outbox.commitWindowMicroseconds = try microseconds(try text(), source)
            guard c.outbox.commitWindowMicroseconds <= 100_000 else { throw ConfigurationError(key: source, "at most 100ms") }
        case "outbox.segment_size": c.outbox.segmentSize = try size(try text(), source)
        case "outbox.max_size": c.outbox.maxSize = try size(try text(), source)
        case "outbox.min_free": c.outbox.minFree = try size(try text(), source)
        case "outbox.retention": c.outbox.retentionSeconds = Int64(try milliseconds(try text(), source) / 1000)
        case "outbox.retention_size": c.outbox.retentionSize = try size(try text(), source)
        case "kafka.brokers": kafka.brokers = try text()
        case "kafka.content_mode":
            let mode = try text()
            guard let parsed = KafkaSinkConfiguration.ContentMode(rawValue: mode) else {
                throw ConfigurationError(key: source, "'\(mode)' is neither 'structured' nor 'binary'")
            }
            kafka.contentMode = parsed
        case "kafka.topic_task_finish": kafka.taskFinishTopic = try text()
        case "kafka.topic_workflow_finish": kafka.workflowFinishTopic = try text()
        case "kafka.topic_moderation": kafka.moderationTopic = try text()
        case "kafka.topic_default": kafka.defaultTopic = try text()
        case "kafka.properties":
            switch value {
            case .map(let map): for (name, property) in map { kafka.properties[name] = property }
            case .text(let string):
                for pair in string.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { throw ConfigurationError(key: source, "use name=value[,name=value…]") }
                    kafka.properties[parts[0].trimmedSpaces()] = parts[1].trimmedSpaces()
                }
            case .list: throw ConfigurationError(key: source, "expected a mapping of librdkafka properties")
            }
        case "kafka.flush_timeout": kafka.flushTimeoutMilliseconds = try milliseconds(try text(), source)
        case "redis.url": redis.url = try text()
        case "redis.topic_streams": redis.topicStreams = try flag(try text(), source)
        case "redis.topic_task_finish": redis.taskFinishTopic = try text()
        case "redis.topic_workflow_finish": redis.workflowFinishTopic = try text()
        case "redis.topic_moderation": redis.moderationTopic = try text()
        case "redis.topic_default": redis.defaultTopic = try text()
        case "redis.shards": redis.shards = try positive(try text(), source)
        case "redis.workflow_streams":
            redis.workflowStreams = try flag(try text(), source)
            redis.workflowStreamsGiven = true
        case "redis.streams":
            let streams = try list()
            guard !streams.isEmpty else { throw ConfigurationError(key: source, "give at least one stream template") }
            redis.streams = streams
            // Naming the streams asks for them (and keeps configurations from before topic streams working).
            if !redis.workflowStreamsGiven { redis.workflowStreams = true }
        case "redis.min_replicas": redis.minReplicas = try nonNegative(try text(), source)
        case "redis.replica_timeout":
            redis.replicaTimeoutMilliseconds = try milliseconds(try text(), source)
            guard redis.replicaTimeoutMilliseconds > 0 else { throw ConfigurationError(key: source, "must be more than 0 (e.g. 1s)") }
        case "redis.max_length": redis.maxLength = try nonNegative(try text(), source)
        case "redis.dedupe_window": redis.dedupeSeconds = try milliseconds(try text(), source) / 1000
        case "redis.command_timeout": redis.commandTimeoutMilliseconds = try milliseconds(try text(), source)
        case "redis.connections": redis.connections = try positive(try text(), source)
        case "log.level":
            let level = try text()
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw ConfigurationError(key: source, "'\(level)' is not a log level (trace, debug, info, notice, warning, error, critical)")
            }
            c.log.level = level
        case "log.format":
            let format = try text()
            guard let parsed = BridgeConfiguration.Log.Format(rawValue: format) else {
                throw ConfigurationError(key: source, "'\(format)' is neither 'text' nor 'json'")
            }
            c.log.format = parsed
        case "tracing.otlp_endpoint":
            let endpoint = try text()
            if endpoint.isEmpty {
                c.tracing.otlpEndpoint = nil
            } else {
                guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"), endpoint.split(separator: "/").count >= 2 else {
                    throw ConfigurationError(key: source, "'\(endpoint)' is not an http(s):// URL (e.g. http://collector:4318/v1/traces)")
                }
                c.tracing.otlpEndpoint = endpoint
            }
        case "tracing.service_name":
            let name = try text()
            guard !name.isEmpty else { throw ConfigurationError(key: source, "must not be empty") }
            c.tracing.serviceName = name
        default:
            throw ConfigurationError(key: source, "unknown key (known keys: \(keys.filter { $0.hasPrefix(key.split(separator: ".").first.map { String($0) + "." } ?? "") }.joined(separator: ", ")))")
        }
        if key.hasPrefix("kafka.") { c.kafka = kafka }
        if key.hasPrefix("redis.") { c.redis = redis }
    }

    // MARK: - Validation

    static func validate(_ c: BridgeConfiguration, requireSink: Bool) throws(ConfigurationError) {
        guard !requireSink || c.kafka != nil || c.redis != nil else {
            throw ConfigurationError(key: "kafka.brokers", "configure at least one sink: kafka.brokers and/or redis.url")
        }
        if let kafka = c.kafka {
            guard !kafka.brokers.isEmpty else { throw ConfigurationError(key: "kafka.brokers", "required when the kafka section is used") }
            _ = try c.kafkaTopics(kafka)
        }
        if let redis = c.redis {
            guard !redis.url.isEmpty else { throw ConfigurationError(key: "redis.url", "required when the redis section is used") }
            _ = try c.redisSinkConfiguration()
        }
        if let tls = c.http.tls {
            if tls.clientAuthGiven && tls.clientCA == nil {
                throw ConfigurationError(key: "http.tls.client_auth", "needs http.tls.client_ca (the CAs client certificates must chain to)")
            }
            guard !tls.certificate.isEmpty else {
                throw ConfigurationError(key: "http.tls.certificate", "required with http.tls (a PEM file: the certificate, then intermediates)")
            }
            guard !tls.key.isEmpty else { throw ConfigurationError(key: "http.tls.key", "required with http.tls.certificate (a PEM file)") }
        }
        guard c.outbox.segmentSize >= 64 << 10 else { throw ConfigurationError(key: "outbox.segment_size", "at least 64KiB") }
        guard c.outbox.maxSize >= c.outbox.segmentSize else {
            throw ConfigurationError(key: "outbox.max_size", "must be at least outbox.segment_size")
        }
    }

    // MARK: - Value parsers

    static func cidrs(_ items: [String], _ key: String) throws(ConfigurationError) -> [CIDR] {
        var result: [CIDR] = []
        for item in items {
            guard let cidr = CIDR(item) else { throw ConfigurationError(key: key, "'\(item)' is not an address or CIDR network") }
            result.append(cidr)
        }
        return result
    }

    /// `500ms`, `10s`, `5m`, `24h`, `7d`, or a bare number of seconds.
    static func milliseconds(_ text: String, _ key: String) throws(ConfigurationError) -> Int {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Int(text.dropLast(suffix.count)), value >= 0 { return value * factor }
        }
        if let seconds = Int(text), seconds >= 0 { return seconds * 1000 }
        throw ConfigurationError(key: key, "'\(text)' is not a duration (e.g. 500ms, 10s, 5m, 24h)")
    }

    /// A duration in microseconds: `500us`, or anything ``milliseconds(_:_:)`` reads.
    static func microseconds(_ text: String, _ key: String) throws(ConfigurationError) -> Int64 {
        for suffix in ["us", "µs"] where text.hasSuffix(suffix) {
            if let value = Int64(text.dropLast(suffix.count)), value >= 0 { return value }
        }
        do {
            return Int64(try milliseconds(text, key)) * 1000
        } catch {
            throw ConfigurationError(key: key, "'\(text)' is not a duration (e.g. 500us, 1ms, 0)")
        }
    }

    /// `1048576`, `512KiB`, `64MiB`, `10GiB` (also KB/MB/GB as powers of 1000).
    static func size(_ text: String, _ key: String) throws(ConfigurationError) -> Int64 {
        let units: [(String, Int64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("KB", 1000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Int64(text.dropLast(suffix.count).trimmedSpaces()), value >= 0 { return value * factor }
        }
        if let bytes = Int64(text), bytes >= 0 { return bytes }
        throw ConfigurationError(key: key, "'\(text)' is not a size (e.g. 1048576, 512KiB, 64MiB, 10GiB)")
    }

    /// `true`/`false` (also `on`/`off`, `yes`/`no`, `1`/`0`).
    static func flag(_ text: String, _ key: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "true", "on", "yes", "1": return true
        case "false", "off", "no", "0": return false
        default: throw ConfigurationError(key: key, "'\(text)' is neither true nor false")
        }
    }

    static func positive(_ text: String, _ key: String) throws(ConfigurationError) -> Int {
        guard let value = Int(text), value > 0 else { throw ConfigurationError(key: key, "'\(text)' is not a positive whole number") }
        return value
    }

    static func nonNegative(_ text: String, _ key: String) throws(ConfigurationError) -> Int {
        guard let value = Int(text), value >= 0 else { throw ConfigurationError(key: key, "'\(text)' is not a whole number ≥ 0") }
        return value
    }
}

extension StringProtocol {
    fileprivate func trimmedSpaces() -> String {
        var result = Substring(self)
        while result.first == " " || result.first == "\t" { result.removeFirst() }
        while result.last == " " || result.last == "\t" { result.removeLast() }
        return String(result)
    }

    fileprivate func replacingUnderscores(with replacement: Character) -> String {
        String(map { $0 == "_" ? replacement : $0 })
    }

    fileprivate func replacingDots(with replacement: Character) -> String {
        String(map { $0 == "." ? replacement : $0 })
    }
}
