import CIBridgeCore
import CIBridgeConfiguration
import CIBridgeOutbox
import Testing

@Suite("Configuration loading")
struct ConfigurationLoaderTests {
    let yaml = """
        http:
          listen: 127.0.0.1:9000
          token: from-file
          allow: [10.0.0.0/8, 192.168.1.7]
          body_limit: 512KiB
          read_timeout: 2s
        outbox:
          dir: /data/outbox
          fsync: interval:20ms
          commit_window: 250us
          max_size: 2GiB
          retention: 6h
        kafka:
          brokers: k1:9092,k2:9092
          content_mode: binary
          topic_default: ci.other
          properties:
            sasl.mechanism: SCRAM-SHA-512
            sasl.password: hunter2
        redis:
          url: redis://:pw@cache:6380/3
          max_length: 5000
          dedupe_window: 1h
        log:
          format: json
        """

    @Test("A file sets every section; derived settings follow")
    func file() throws {
        let c = try ConfigurationLoader.load(yaml: yaml)
        #expect(c.http.listen == HostPort(host: "127.0.0.1", port: 9000))
        #expect(c.http.token == "from-file")
        #expect(c.http.bodyLimit == 512 * 1024)
        #expect(c.http.readTimeoutMilliseconds == 2000)
        #expect(c.outbox.fsyncIntervalMilliseconds == 20)
        #expect(c.outbox.maxSize == 2 << 30)
        #expect(c.outbox.retentionSeconds == 6 * 3600)
        #expect(c.kafka?.brokers == "k1:9092,k2:9092")
        #expect(c.kafka?.contentMode == .binary)
        #expect(c.redis?.dedupeSeconds == 3600)
        #expect(c.log.format == .json)
        #expect(c.sinkNames == ["kafka", "redis"])
        #expect(c.outboxConfiguration.fsync == .interval(milliseconds: 20))
        #expect(c.outboxConfiguration.commitWindow == CommitWindow(microseconds: 250))
        #expect(try c.kafkaSinkConfiguration()?.topics.fallback.source == "ci.other")
        #expect(try c.kafkaSinkConfiguration()?.effectiveProperties["sasl.mechanism"] == "SCRAM-SHA-512")
        #expect(try c.redisSinkConfiguration()?.maxLength == 5000)
    }

    @Test("Environment beats the file, flags beat the environment")
    func precedence() throws {
        let environment = [
            "CIBRIDGE_HTTP_LISTEN": "0.0.0.0:7000", "CIBRIDGE_HTTP_TOKEN": "from-env",
            "CIBRIDGE_KAFKA_PROPERTY_SASL_USERNAME": "bridge", "PATH": "/usr/bin",
        ]
        let c = try ConfigurationLoader.load(yaml: yaml, environment: environment, overrides: [("http.listen", "[::1]:6000")])
        #expect(c.http.listen == HostPort(host: "::1", port: 6000))
        #expect(c.http.token == "from-env")
        #expect(c.kafka?.properties["sasl.username"] == "bridge")
        #expect(c.kafka?.properties["sasl.password"] == "hunter2")
    }

    @Test("outbox.commit_window: microseconds, milliseconds or 0, from the file or the environment")
    func commitWindow() throws {
        let redis = [("redis.url", "redis://h")]
        for (text, microseconds) in [("500us", 500), ("2ms", 2000), ("0", 0), ("100ms", 100_000)] {
            let c = try ConfigurationLoader.load(yaml: nil, overrides: redis + [("outbox.commit_window", text)])
            #expect(c.outboxConfiguration.commitWindow.microseconds == Int64(microseconds))
        }
        let fromVariable = try ConfigurationLoader.load(
            yaml: nil, environment: ["CIBRIDGE_OUTBOX_COMMIT_WINDOW": "750us", "CIBRIDGE_REDIS_URL": "redis://h"])
        #expect(fromVariable.outbox.commitWindowMicroseconds == 750)
    }

    @Test("Defaults need only one sink")
    func defaults() throws {
        let c = try ConfigurationLoader.load(yaml: nil, overrides: [("redis.url", "redis://127.0.0.1")])
        #expect(c.http.listen.description == "0.0.0.0:8080")
        #expect(c.http.bodyLimit == 1 << 20)
        #expect(c.outboxConfiguration.fsync == .always)
        #expect(c.outboxConfiguration.commitWindow == CommitWindow(microseconds: 1000))
        #expect(c.kafka == nil)
        #expect(c.sinkNames == ["redis"])
    }

    @Test("Redis: topic streams by default; workflow streams when asked for, or when redis.streams names them")
    func redisLayout() throws {
        let plain = try #require(try ConfigurationLoader.load(yaml: "redis:\n  url: redis://h\n").redis)
        #expect(plain.topicStreams && !plain.workflowStreams && plain.shards == 4)
        let named = try #require(try ConfigurationLoader.load(yaml: "redis:\n  url: redis://h\n  streams: ['ci:wf:{workflowid}']\n").redis)
        #expect(named.workflowStreams)
        let declined = try #require(
            try ConfigurationLoader.load(yaml: "redis:\n  url: redis://h\n  workflow_streams: false\n  streams: ['ci:wf:{workflowid}']\n").redis)
        #expect(!declined.workflowStreams)
        let variables = try #require(
            try ConfigurationLoader.load(
                yaml: nil, environment: ["CIBRIDGE_REDIS_URL": "redis://h", "CIBRIDGE_REDIS_SHARDS": "16", "CIBRIDGE_REDIS_WORKFLOW_STREAMS": "on"]
            ).redis)
        #expect(variables.shards == 16 && variables.workflowStreams)
        let sink = try #require(try ConfigurationLoader.load(yaml: "redis:\n  url: redis://h\n  topic_moderation: ci:verdicts\n").redisSinkConfiguration())
        #expect(sink.stream(of: .moderation, shard: 2) == "ci:verdicts:2")
        #expect(sink.stream(of: .taskFinish, shard: 0) == "ci:task-finish:0")
        // In a cluster, shard n's keys carry the hash tag {n}.
        let cluster = try #require(
            try ConfigurationLoader.load(yaml: "redis:\n  url: redis-cluster://a:1,b:2\n").redisSinkConfiguration())
        #expect(cluster.stream(of: .taskFinish, shard: 3) == "ci:task-finish:{3}")
        #expect(cluster.keys(id: "abc", attribute: { $0 == "type" ? EventType.taskFinish : nil }, partitionKey: "wf-1").count == 2)
        #expect(cluster.keys(id: "abc", attribute: { _ in nil }, partitionKey: "wf-1")[0].hasPrefix("cibridge:dedupe:{"))
    }

    @Test("http.tls and tracing: nested keys, variables, an empty tls section left unset")
    func tlsAndTracing() throws {
        let yaml = """
            http:
              tls:
                certificate: /etc/c.pem
                key: /etc/k.pem
                client_ca: /etc/ca.pem
                client_auth: optional
                reload_interval: 2s
            tracing:
              otlp_endpoint: http://collector:4318/v1/traces
            redis:
              url: redis://h
            """
        let c = try ConfigurationLoader.load(yaml: yaml, environment: ["CIBRIDGE_TRACING_SERVICE_NAME": "bridge-a"])
        #expect(c.http.tls?.certificate == "/etc/c.pem" && c.http.tls?.key == "/etc/k.pem")
        #expect(c.http.tls?.clientCA == "/etc/ca.pem" && c.http.tls?.clientAuth == .optional)
        #expect(c.http.tls?.reloadIntervalMilliseconds == 2000)
        #expect(c.tracing.otlpEndpoint == "http://collector:4318/v1/traces" && c.tracing.serviceName == "bridge-a")
        let unset = try ConfigurationLoader.load(yaml: "http:\n  tls: ~\nredis:\n  url: redis://h\n")
        #expect(unset.http.tls == nil && unset.tracing.otlpEndpoint == nil)
        let fromVariables = try ConfigurationLoader.load(
            yaml: nil,
            environment: ["CIBRIDGE_HTTP_TLS_CERTIFICATE": "c.pem", "CIBRIDGE_HTTP_TLS_KEY": "k.pem", "CIBRIDGE_REDIS_URL": "redis://h"])
        #expect(fromVariables.http.tls?.clientAuth == .require && fromVariables.http.tls?.clientCA == nil)
    }

    @Test("Every mistake is one error naming the key", arguments: [
        ("http:\n  lisen: 1\nredis:\n  url: redis://h\n", "http.lisen"),
        ("htp:\n  listen: 1\n", "htp"),
        ("http:\n  listen: nowhere\nredis:\n  url: redis://h\n", "http.listen"),
        ("http:\n  body_limit: lots\nredis:\n  url: redis://h\n", "http.body_limit"),
        ("http:\n  allow: [10.0.0.0/33]\nredis:\n  url: redis://h\n", "http.allow"),
        ("outbox:\n  fsync: sometimes\nredis:\n  url: redis://h\n", "outbox.fsync"),
        ("outbox:\n  retention: forever\nredis:\n  url: redis://h\n", "outbox.retention"),
        ("outbox:\n  commit_window: soon\nredis:\n  url: redis://h\n", "outbox.commit_window"),
        ("outbox:\n  commit_window: 101ms\nredis:\n  url: redis://h\n", "outbox.commit_window"),
        ("kafka:\n  content_mode: xml\n", "kafka.content_mode"),
        ("kafka:\n  flush_timeout: 3s\n", "kafka.brokers"),
        ("kafka:\n  brokers: k:9092\n  topic_default: 'bad topic'\n", "kafka.topic_default"),
        ("redis:\n  url: rediss://h\n", "redis.url"),
        ("redis:\n  url: redis://h\n  connections: 0\n", "redis.connections"),
        ("redis:\n  url: redis://h\n  shards: 0\n", "redis.shards"),
        ("redis:\n  url: redis-sentinel://127.0.0.1:26379\n", "redis.url"),
        ("redis:\n  url: redis-cluster://127.0.0.1:7000/3\n", "redis.url"),
        ("redis:\n  url: redis-cluster://\n", "redis.url"),
        ("redis:\n  url: redis-cluster://127.0.0.1:7000\n  workflow_streams: true\n", "redis.workflow_streams"),
        ("redis:\n  url: redis-sentinel://127.0.0.1/primary\n", "redis.url"),
        ("redis:\n  url: redis://h\n  min_replicas: -1\n", "redis.min_replicas"),
        ("redis:\n  url: redis://h\n  replica_timeout: 0s\n", "redis.replica_timeout"),
        ("redis:\n  url: redis://h\n  shards: 100000\n", "redis.shards"),
        ("redis:\n  url: redis://h\n  streams: ['ci:wf:{workflow}']\n", "redis.streams"),
        ("kafka:\n  brokers: k:9092\n  topic_task_finish: 'ci.{tags}'\n", "kafka.topic_task_finish"),
        ("redis:\n  url: redis://h\n  topic_task_finish: 'cibridge:dedupe'\n", "redis.topic_task_finish"),
        ("redis:\n  url: redis://h\n  topic_events: 'x'\n", "redis.topic_events"),
        ("redis:\n  url: redis://h\n  topic_moderation: 'ci:{type}'\n", "redis.topic_moderation"),
        ("redis:\n  url: redis://h\n  topic_default: ci:task-finish\n", "redis.topic_default"),
        ("redis:\n  url: redis://h\n  streams: ['cibridge:{workflowid}']\n", "redis.streams"),
        ("redis:\n  url: redis://h\n  workflow_streams: maybe\n", "redis.workflow_streams"),
        ("redis:\n  url: redis://h\n  workflow_streams: false\n  topic_streams: off\n", "redis.topic_streams"),
        ("log:\n  level: loud\nredis:\n  url: redis://h\n", "log.level"),
        ("http:\n  tls:\n    key: k.pem\nredis:\n  url: redis://h\n", "http.tls.certificate"),
        ("http:\n  tls:\n    certificate: c.pem\nredis:\n  url: redis://h\n", "http.tls.key"),
        ("http:\n  tls:\n    certificate: c.pem\n    key: k.pem\n    client_auth: optional\nredis:\n  url: redis://h\n", "http.tls.client_auth"),
        ("http:\n  tls:\n    certificate: c.pem\n    key: k.pem\n    client_ca: ca.pem\n    client_auth: maybe\nredis:\n  url: redis://h\n", "http.tls.client_auth"),
        ("http:\n  tls:\n    certificat: c.pem\nredis:\n  url: redis://h\n", "http.tls.certificat"),
        ("tracing:\n  otlp_endpoint: collector:4318\nredis:\n  url: redis://h\n", "tracing.otlp_endpoint"),
        ("", "kafka.brokers"),
        ("http: [\n", "(file)"),
    ])
    func mistakes(yaml: String, key: String) {
        let error = #expect(throws: ConfigurationError.self) { _ = try ConfigurationLoader.load(yaml: yaml) }
        #expect(error?.key == key)
        #expect(error?.message.contains("\n") == false)
    }

    @Test("An unknown CIBRIDGE_ variable is an error; other variables are ignored")
    func variables() {
        let error = #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.load(yaml: nil, environment: ["CIBRIDGE_REDIS_URI": "redis://h", "HOME": "/root"])
        }
        #expect(error?.key == "CIBRIDGE_REDIS_URI")
    }

    @Test("The effective configuration never shows secrets")
    func masking() throws {
        let c = try ConfigurationLoader.load(yaml: yaml)
        let text = c.maskedYAML
        #expect(!text.contains("from-file"))
        #expect(!text.contains("hunter2"))
        #expect(!text.contains(":pw@"))
        #expect(text.contains("token: \"***\""))
        #expect(text.contains("sasl.password: \"***\""))
        #expect(text.contains("redis://:***@cache:6380/3"))
        #expect(text.contains("enable.idempotence: \"true\""))
    }

    @Test("CIDR networks, IPv4 and IPv6")
    func cidr() throws {
        let v4 = try #require(CIDR("10.1.0.0/16"))
        #expect(v4.contains("10.1.200.3"))
        #expect(!v4.contains("10.2.0.1"))
        #expect(!v4.contains("not an address"))
        let host = try #require(CIDR("192.168.1.7"))
        #expect(host.contains("192.168.1.7"))
        #expect(!host.contains("192.168.1.8"))
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::5"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(CIDR("::ffff:0:0/96")?.contains("1.2.3.4") == true)
        #expect(CIDR("300.1.1.1") == nil)
        #expect(CIDR("10.0.0.0/40") == nil)
    }
}
