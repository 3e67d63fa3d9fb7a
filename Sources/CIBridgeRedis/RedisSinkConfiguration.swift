import CIBridgeCore

/// How the Redis sink connects, names streams, trims and deduplicates.
public struct RedisSinkConfiguration: Sendable {
    public var url: RedisURL
    /// The outbox sink this publishes for.
    public var sinkName: String
    /// Stream name templates over envelope attributes, tried in order: the first
    /// whose attributes are all present is used (``AttributeTemplateList``).
    /// Default: one stream per workflow, `ci:wf:{workflowid}`, and for jobs
    /// outside a workflow `ci:jobs:{partitionkey}` (their queue).
    public var streams: AttributeTemplateList

    /// The default stream templates.
    public static let standardStreams = try! AttributeTemplateList(["ci:wf:{workflowid}", "ci:jobs:{partitionkey}"])
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

    public init(
        url: RedisURL, sinkName: String = "redis", streams: AttributeTemplateList = standardStreams,
        maxLength: Int = 100_000, dedupeSeconds: Int = 86_400, dedupePrefix: String = "cibridge:dedupe:",
        connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5), batchSize: Int = 1000,
        recordsPerCall: Int = 50, connections: Int = 2
    ) {
        self.url = url
        self.sinkName = sinkName
        self.streams = streams
        self.maxLength = maxLength
        self.dedupeSeconds = dedupeSeconds
        self.dedupePrefix = dedupePrefix
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.batchSize = batchSize
        self.recordsPerCall = recordsPerCall
        self.connections = connections
    }

    /// Checks the numbers (templates are checked when they are parsed); every
    /// mistake is one line naming the setting.
    public func validate() throws(RedisError) {
        guard maxLength >= 0 else { throw RedisError(.configuration, "redis maxLength must be 0 (unbounded) or more") }
        guard dedupeSeconds >= 0 else { throw RedisError(.configuration, "redis dedupeSeconds must be 0 (off) or more") }
        guard batchSize > 0, recordsPerCall > 0 else { throw RedisError(.configuration, "redis batchSize and recordsPerCall must be positive") }
        guard (1...16).contains(connections) else { throw RedisError(.configuration, "redis connections must be 1 to 16") }
    }

    /// The stream for an envelope whose attributes `attribute` looks up.
    public func stream(attribute: (String) -> String?) -> String {
        streams.render(attribute)
    }
}
