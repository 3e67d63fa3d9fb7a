import CIBridgeOutbox

/// One of the sink's lanes: publishes the records whose keys hash to it, in
/// order, on a dispatch queue of its own (hiredis blocks; the cooperative
/// pool never does). ``RedisPublisher`` writes to one server (or the primary
/// Sentinel names), ``RedisClusterPublisher`` to the nodes of a cluster.
protocol RedisLane: Sendable {
    /// Starts publishing `records`; the outcomes come from ``receive(_:)``,
    /// called in the order the batches were sent.
    func send(_ records: [OutboxRecord]) async -> RedisSent
    /// One outcome per record of `sent`, in order.
    func receive(_ sent: RedisSent) async -> [DeliveryOutcome]
    /// Drops the connections (at shutdown).
    func disconnect() async
}

/// A batch a lane has sent and not yet reported on.
struct RedisSent: Sendable {
    let records: [OutboxRecord]
    /// The records each reply of the pipeline covers.
    var groups: [Range<Int>] = []
    /// The connection the pipeline went out on (``RedisPublisher``).
    var generation = 0
    /// Set when the pipeline could not be written: every record failed with it.
    var failure: RedisError?
    /// Known already (``RedisClusterPublisher`` publishes and reads at once).
    var outcomes: [DeliveryOutcome]?
}
