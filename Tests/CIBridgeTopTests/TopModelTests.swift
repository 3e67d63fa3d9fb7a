import CIBridgeTop
import Testing

@Suite("cibridge top: frames from scrapes")
struct TopModelTests {
    /// A bridge's /metrics with the given figures.
    func metrics(accepted: Int, unauthorized: Int = 0, fast: Int, slow: Int, redisPending: Int, redisPublished: Int, redisUp: Bool)
        -> String
    {
        """
        # TYPE cibridge_callbacks_total counter
        cibridge_callbacks_total{result="accepted",status="200"} \(accepted)
        cibridge_callbacks_total{result="unauthorized",status="401"} \(unauthorized)
        cibridge_callbacks_refused_total{reason="outbox_full"} 2
        cibridge_http_request_duration_seconds_bucket{le="0.005"} \(fast)
        cibridge_http_request_duration_seconds_bucket{le="0.05"} \(fast + slow)
        cibridge_http_request_duration_seconds_bucket{le="+Inf"} \(fast + slow)
        cibridge_outbox_records 1234
        cibridge_outbox_bytes 3145728.0
        cibridge_outbox_segments 2.0
        cibridge_outbox_quarantined 0.0
        cibridge_sink_pending{sink="kafka"} 0.0
        cibridge_sink_connected{sink="kafka"} 1.0
        cibridge_sink_published_total{sink="kafka"} \(accepted).0
        cibridge_sink_pending{sink="redis"} \(redisPending).0
        cibridge_sink_connected{sink="redis"} \(redisUp ? 1 : 0).0
        cibridge_sink_oldest_pending_seconds{sink="redis"} 12.5
        cibridge_sink_published_total{sink="redis"} \(redisPublished - 10).0
        cibridge_sink_duplicates_total{sink="redis"} 10.0
        cibridge_sink_retried_total{sink="redis"} 7.0
        cibridge_sink_dead_letters{sink="redis"} 1.0
        """
    }

    @Test("Rates and latency cover the last interval; sinks show backlog, state and delivery rate")
    func frames() throws {
        var model = TopModel(source: "http://127.0.0.1:8080/metrics")
        let first = model.update(try MetricsScrape(
            text: metrics(accepted: 100, fast: 100, slow: 0, redisPending: 0, redisPublished: 100, redisUp: true), time: 10))
        #expect(first.interval == nil)
        #expect(first.intakePerSecond == nil)
        #expect(first.outcomes.map(\.result) == ["accepted", "unauthorized"])
        // Since the start: all 100 under 5 ms.
        #expect(try #require(first.latencyP50) <= 0.005)

        let second = model.update(try MetricsScrape(
            text: metrics(accepted: 300, unauthorized: 10, fast: 100, slow: 210, redisPending: 150, redisPublished: 150, redisUp: false),
            time: 12))
        #expect(second.interval == 2)
        #expect(second.intakePerSecond == 105)
        #expect(second.outcomes.first?.result == "accepted")
        #expect(second.outcomes.first?.perSecond == 100)
        #expect(second.outcomes.first?.statuses == ["200"])
        #expect(second.outcomes.last?.perSecond == 5)
        // The last interval's 210 requests were all slow: p50 is in (5 ms, 50 ms].
        #expect(try #require(second.latencyP50) > 0.005)
        #expect(second.refused == 2)
        #expect(second.outboxRecords == 1234)
        let redis = try #require(second.sinks.first { $0.name == "redis" })
        #expect(redis.connected == false)
        #expect(redis.backlog == 150)
        #expect(redis.deliveredPerSecond == 25)  // duplicates count as delivered
        #expect(redis.retries == 7)
        #expect(redis.deadLetters == 1)
        #expect(redis.backlogHistory == [0, 150])
        #expect(second.sinks.first { $0.name == "kafka" }?.deliveredPerSecond == 100)
    }

    @Test("History is bounded; a failed read keeps the last figures, marked, and rates restart")
    func historyAndFailure() throws {
        var model = TopModel(source: "s", historyLength: 3)
        for (index, pending) in [5, 4, 3, 2].enumerated() {
            _ = model.update(try MetricsScrape(
                text: metrics(accepted: 1, fast: 1, slow: 0, redisPending: pending, redisPublished: 0, redisUp: true),
                time: Double(index)))
        }
        let failed = model.failed(TopError(.unreachable, "connection refused"))
        #expect(failed.unreachable == "connection refused")
        #expect(failed.sinks.first { $0.name == "redis" }?.backlogHistory == [4, 3, 2])
        let next = model.update(try MetricsScrape(
            text: metrics(accepted: 1, fast: 1, slow: 0, redisPending: 0, redisPublished: 0, redisUp: true), time: 9))
        #expect(next.unreachable == nil)
        #expect(next.intakePerSecond == nil)
        #expect(next.sinks.first { $0.name == "redis" }?.backlogHistory == [3, 2, 0])
    }
}
