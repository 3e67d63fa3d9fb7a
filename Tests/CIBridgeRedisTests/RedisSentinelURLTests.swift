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
