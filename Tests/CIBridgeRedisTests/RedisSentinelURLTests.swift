import CIBridgeRedis
import Testing

@Suite("redis-sentinel:// URLs")
struct RedisSentinelURLTests {
    @Test("Sentinels, the primary's name, its credentials and database")
    func parses() throws {
        let url = try RedisSentinelURL("redis-sentinel://app:p%40ss@10.0.0.1:26379,10.0.0.2:26380/main-cache?db=3")
        #expect(url.sentinels.map(\.description) == ["10.0.0.1:26379", "10.0.0.2:26380"])
        #expect(url.primaryName == "main-cache")
        #expect(url.user == "app" && url.password == "p@ss" && url.database == 3)
        #expect(url.description == "redis-sentinel://app:***@10.0.0.1:26379,10.0.0.2:26380/main-cache?db=3")
        #expect(url.primary(host: "10.0.0.9", port: 6380).description == "redis://app:***@10.0.0.9:6380/3")
        guard case .sentinel = try RedisTarget("redis-sentinel://h:1/x"), case .server = try RedisTarget("redis://h") else {
            Issue.record("RedisTarget chose the wrong kind")
            return
        }
    }

    @Test("Mistakes are one line each", arguments: [
        "redis-sentinel://10.0.0.1:26379", "redis-sentinel://10.0.0.1:26379/", "redis-sentinel://10.0.0.1/x",
        "redis-sentinel:///x", "redis-sentinel://h:1/x?db=no", "redis-sentinel://h:1/x?timeout=3",
    ])
    func refuses(text: String) {
        let error = #expect(throws: RedisError.self) { try RedisSentinelURL(text) }
        #expect(error?.message.contains("\n") == false)
        #expect(error?.kind == .configuration)
    }
}

@Suite("Redis Cluster slots and URLs")
struct RedisClusterSlotTests {
    @Test("CRC16 slots as Redis computes them, hash tags included")
    func slots() {
        // Values from CLUSTER KEYSLOT on redis-server 7.0.
        #expect(RedisClusterSlot.of(Array("foo".utf8)) == 12182)
        #expect(RedisClusterSlot.of(Array("123456789".utf8)) == 12739)
        #expect(RedisClusterSlot.of(Array("ci:task-finish:{3}".utf8)) == RedisClusterSlot.of(Array("cibridge:dedupe:{3}:abc".utf8)))
        #expect(RedisClusterSlot.of(Array("a{}b".utf8)) == RedisClusterSlot.of(Array("a{}b".utf8)))
        #expect(RedisClusterSlot.of(Array("{}x".utf8)) != RedisClusterSlot.of(Array("x".utf8)))
    }

    @Test("redis-cluster:// seeds and credentials")
    func url() throws {
        let url = try RedisClusterURL("redis-cluster://:s3cret@10.0.0.1:7000,10.0.0.2:7001")
        #expect(url.seeds.map(\.description) == ["10.0.0.1:7000", "10.0.0.2:7001"])
        #expect(url.password == "s3cret" && url.user == nil)
        #expect(url.description == "redis-cluster://:***@10.0.0.1:7000,10.0.0.2:7001")
        #expect(throws: RedisError.self) { try RedisClusterURL("redis-cluster://10.0.0.1") }
    }
}
