import CIBridgeCore

/// How the Redis sink connects, names streams, trims and deduplicates.
public struct RedisSinkConfiguration: Sendable {
    /// Where to write: a server, or the primary Sentinel names (``RedisTarget``).
    public var target: RedisTarget
    /// The outbox sink this publishes for.
    public var sinkName: String
    /// Whether every envelope goes to the shard stream of its topic
    /// (`ci:task-finish:<shard>`, …): the streams consumer groups read.
    public var topicStreams: Bool
    /// The name of each topic's streams; shard `n` is `<name>:<n>`.
    public var topics: [EventTopic: String]
    /// How many shard streams each topic has. An envelope's shard is
    /// ``TopicShard/of(partitionKey:count:)``: one workflow, one shard.
    public var shards: Int
    /// Whether every envelope also goes to the stream ``streams`` names (its
    /// workflow's), in the same atomic step as its topic stream. Off by
    /// default: it doubles Redis's work and memory per envelope.
    public var workflowStreams: Bool
    /// Stream name templates over envelope attributes, tried in order: the first
    /// whose attributes are all present is used (``AttributeTemplateList``).
    /// Default: one stream per workflow, `ci:wf:{workflowid}`, and for jobs
    /// outside a workflow `ci:jobs:{partitionkey}` (their queue).
    public var streams: AttributeTemplateList

    /// The default stream templates.
    public static let standardStreams = try! AttributeTemplateList(["ci:wf:{workflowid}", "ci:jobs:{partitionkey}"])
    /// The default topic stream names: the Kafka topics with Redis's `:` (`ci:task-finish`).
    public static let standardTopics: [EventTopic: String] = Dictionary(
        uniqueKeysWithValues: EventTopic.allCases.map { ($0, "ci:" + $0.name) })
    /// The default number of shards per topic (docs/redis.md says why 4).
    public static let standardShards = 4
    /// Replicas every write must reach (`WAIT n` after each pipeline) before its
    /// records count as delivered; 0 does not wait (Redis replicates asynchronously,
    /// so a failover can lose what the primary had acknowledged).
    public var minReplicas: Int
    /// How long `WAIT` waits for them; fewer confirmations and the records are retried.
    public var replicaTimeout: Duration
    /// `XADD … MAXLEN ~ n`: approximate trimming per stream; 0 keeps everything.
    public var maxLength: Int
    /// How long an envelope id is remembered to drop a second copy (retry or
    /// replay), in seconds; 0 turns deduplication off.
    public var dedupeSeconds: Int
    /// Prefix of the dedupe keys (`<prefix><envelope id>`).
    public var dedupePrefix: String
    public var connectTimeout: Duration
    /// A command that takes longer breaks the connection; its records are retried (and deduplicated).
    public var commandTimeout: Duration
    /// Records taken from the outbox per batch (sent as one pipeline).
    public var batchSize: Int
    /// Records per script call inside the pipeline.
    public var recordsPerCall: Int
    /// Connections used side by side; records are spread over them by key, so
    /// one workflow's records always share a connection and stay in order.
    public var connections: Int

    /// A sink writing to one server at `url`; see the other initializer for the parameters.
    public init(
        url: RedisURL, sinkName: String = "redis", topicStreams: Bool = true, topics: [EventTopic: String] = standardTopics,
        shards: Int = standardShards, workflowStreams: Bool = false, streams: AttributeTemplateList = standardStreams,
        minReplicas: Int = 0, replicaTimeout: Duration = .seconds(1),
        maxLength: Int = 100_000, dedupeSeconds: Int = 86_400, dedupePrefix: String = "cibridge:dedupe:",
        connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5), batchSize: Int = 1000,
        recordsPerCall: Int = 50, connections: Int = 2
    ) {
        self.init(
            target: .server(url), sinkName: sinkName, topicStreams: topicStreams, topics: topics, shards: shards,
            workflowStreams: workflowStreams, streams: streams, minReplicas: minReplicas, replicaTimeout: replicaTimeout,
            maxLength: maxLength, dedupeSeconds: dedupeSeconds, dedupePrefix: dedupePrefix, connectTimeout: connectTimeout,
            commandTimeout: commandTimeout, batchSize: batchSize, recordsPerCall: recordsPerCall, connections: connections)
    }

    /// A sink writing to `target`: a server, or the primary Sentinel names.
    public init(
        target: RedisTarget, sinkName: String = "redis", topicStreams: Bool = true, topics: [EventTopic: String] = standardTopics,
        shards: Int = standardShards, workflowStreams: Bool = false, streams: AttributeTemplateList = standardStreams,
        minReplicas: Int = 0, replicaTimeout: Duration = .seconds(1),
        maxLength: Int = 100_000, dedupeSeconds: Int = 86_400, dedupePrefix: String = "cibridge:dedupe:",
        connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5), batchSize: Int = 1000,
        recordsPerCall: Int = 50, connections: Int = 2
    ) {
        self.target = target
        self.sinkName = sinkName
        self.topicStreams = topicStreams
        self.topics = topics
        self.shards = shards
        self.workflowStreams = workflowStreams
        self.streams = streams
        self.minReplicas = minReplicas
        self.replicaTimeout = replicaTimeout
        self.maxLength = maxLength
        self.dedupeSeconds = dedupeSeconds
        self.dedupePrefix = dedupePrefix
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.batchSize = batchSize
        self.recordsPerCall = recordsPerCall
        self.connections = connections
    }

    /// Checks the settings (templates are checked when they are parsed); every
    /// mistake is one line naming the setting.
    public func validate() throws(RedisError) {
        guard maxLength >= 0 else { throw RedisError(.configuration, "redis maxLength must be 0 (unbounded) or more") }
        guard dedupeSeconds >= 0 else { throw RedisError(.configuration, "redis dedupeSeconds must be 0 (off) or more") }
        guard batchSize > 0, recordsPerCall > 0 else { throw RedisError(.configuration, "redis batchSize and recordsPerCall must be positive") }
        guard (1...16).contains(connections) else { throw RedisError(.configuration, "redis connections must be 1 to 16") }
        guard minReplicas >= 0 else { throw RedisError(.configuration, "redis minReplicas must be 0 or more") }
        guard replicaTimeout > .zero else { throw RedisError(.configuration, "redis replicaTimeout must be positive") }
        guard (1...Self.maximumShards).contains(shards) else {
            throw RedisError(.configuration, "redis shards must be 1 to \(Self.maximumShards), not \(shards)")
        }
        if hashTags {
            guard topicStreams, !workflowStreams else {
                throw RedisError(
                    .configuration,
                    "redis-cluster: only topic streams are supported in a cluster (turn workflow streams off): a record's keys must share one slot")
            }
        }
        guard topicStreams || workflowStreams else {
            throw RedisError(.configuration, "redis: turn on topic streams, workflow streams or both; with neither nothing is published")
        }
        for topic in EventTopic.allCases {
            guard let name = topics[topic], !name.isEmpty else {
                throw RedisError(.configuration, "redis: the \(topic.name) topic has no stream name")
            }
            if let problem = Self.topicNameProblem(name, dedupePrefix: dedupePrefix) {
                throw RedisError(.configuration, "redis: \(topic.name) stream name '\(name)' \(problem)")
            }
        }
        guard Set(topics.values).count == topics.count else {
            throw RedisError(.configuration, "redis: two topics have the same stream name; give each its own")
        }
        for template in streams.templates where Self.mayStartWith(template, dedupePrefix) {
            throw RedisError(
                .configuration, "redis: stream template '\(template)' can name a dedupe key ('\(dedupePrefix)…'); start it with other text")
        }
    }

    /// The most shards a topic may have: each is a stream a consumer reads.
    public static let maximumShards = 256

    /// Why `name` cannot name a topic's streams, or `nil` when it can.
    /// Topic stream names are fixed (not templates), so that a consumer can
    /// list a topic's shards; and no shard may be, or hold, a dedupe key.
    public static func topicNameProblem(_ name: String, dedupePrefix: String) -> String? {
        if name.contains("{") || name.contains("}") {
            return "is a fixed name, not a template: a consumer must be able to list its shards"
        }
        let shard = name + ":"
        if shard.hasPrefix(dedupePrefix) || dedupePrefix.hasPrefix(shard) {
            return "would collide with the dedupe keys ('\(dedupePrefix)…')"
        }
        return nil
    }

    /// Whether `template` can render a name that starts with `prefix`.
    static func mayStartWith(_ template: AttributeTemplate, _ prefix: String) -> Bool {
        var literal = ""
        for part in template.parts {
            guard case .text(let text) = part else {
                // An attribute comes next: any text could follow the literal start.
                return literal.hasPrefix(prefix) || prefix.hasPrefix(literal)
            }
            literal += text
        }
        return literal.hasPrefix(prefix)
    }

    /// Whether keys carry Redis Cluster hash tags: with a `redis-cluster://`
    /// target, shard `n`'s streams and the dedupe keys of its records are
    /// `…:{n}` and `<prefix>{n}:<id>`, so one script call's keys share a slot.
    public var hashTags: Bool {
        if case .cluster = target { true } else { false }
    }

    /// The name of shard `shard` of `topic`'s streams: `ci:task-finish:3`, or
    /// `ci:task-finish:{3}` in a cluster.
    public func stream(of topic: EventTopic, shard: Int) -> String {
        (topics[topic] ?? Self.standardTopics[topic]!) + (hashTags ? ":{\(shard)}" : ":\(shard)")
    }

    /// The keys one record's script call touches: its dedupe key, then its streams.
    public func keys(id: String, attribute: (String) -> String?, partitionKey: String) -> [String] {
        let shard = TopicShard.of(partitionKey: partitionKey.utf8, count: shards)
        let dedupe = hashTags ? dedupePrefix + "{\(shard)}:" + id : dedupePrefix + id
        return [dedupe] + streams(attribute: attribute, shard: shard)
    }

    /// The streams an envelope of topic shard `shard` goes to, in order: that
    /// shard, then its workflow stream (each when turned on).
    private func streams(attribute: (String) -> String?, shard: Int) -> [String] {
        var names: [String] = []
        names.reserveCapacity(2)
        if topicStreams {
            names.append(stream(of: EventTopic(type: attribute("type")), shard: shard))
        }
        if workflowStreams {
            names.append(streams.render(attribute))
        }
        return names
    }

    /// How many streams each envelope goes to.
    public var streamsPerRecord: Int { (topicStreams ? 1 : 0) + (workflowStreams ? 1 : 0) }
}
