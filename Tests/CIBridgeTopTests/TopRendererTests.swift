@testable import CIBridgeTop
import Testing

@Suite("cibridge top: drawing")
struct TopRendererTests {
    func view() -> TopView {
        TopView(
            source: "http://127.0.0.1:8080/metrics", interval: 1,
            outcomes: [.init(result: "accepted", statuses: ["200"], perSecond: 1234.5, total: 98765)],
            intakePerSecond: 1234.5, latencyP50: 0.0041, latencyP99: 0.012, refused: 0,
            outboxRecords: 5123, outboxBytes: 12_897_485, outboxSegments: 3, quarantined: 0,
            sinks: [
                .init(name: "kafka", connected: true, backlog: 0, oldestPendingSeconds: 0, deliveredPerSecond: 1234.5,
                      retries: 0, deadLetters: 0, backlogHistory: [0, 0]),
                .init(name: "redis", connected: false, backlog: 3001, oldestPendingSeconds: 12.3, deliveredPerSecond: 0,
                      retries: 120, deadLetters: 2, backlogHistory: [0, 1000, 3001]),
            ],
            unreachable: nil)
    }

    @Test("Plain frames carry every figure and no escape code")
    func plain() {
        let text = TopRenderer(style: .plain).render(view(), clock: "12:00:01")
        #expect(!text.contains("\u{1B}"))
        for expected in [
            "INTAKE   1,234.5/s   latency p50 4.1 ms  p99 12.0 ms", "accepted", "total 98,765", "5,123 records", "12.3 MiB",
            "3 segments",
        ] {
            #expect(text.contains(expected), "\(expected) in\n\(text)")
        }
        let redis = text.split(separator: "\n").first { $0.hasPrefix("redis") }.map(String.init) ?? ""
        #expect(redis.contains("DOWN") && redis.contains("3,001") && redis.contains("12.3 s") && redis.contains("120"))
        #expect(redis.hasSuffix("▁▄█ peak 3,001"))
        let kafka = text.split(separator: "\n").first { $0.hasPrefix("kafka") }.map(String.init) ?? ""
        #expect(kafka.contains(" up ") && kafka.contains("1,234.5") && kafka.hasSuffix("▁▁"))  // no peak: nothing was ever pending
    }

    @Test("Terminal frames colour the state; an unreachable bridge is said first")
    func terminal() {
        var unreachable = view()
        unreachable.unreachable = "connection refused"
        let text = TopRenderer(style: .terminal).render(unreachable, clock: "12:00:01")
        #expect(text.contains("\u{1B}[31mDOWN"))
        #expect(text.contains("\u{1B}[32mup"))
        #expect(text.split(separator: "\n")[1].contains("cannot read the bridge: connection refused"))
    }

    @Test("Numbers: grouped, rounded; beyond Int64 in scientific notation rather than a crash")
    func numbers() {
        #expect(TopRenderer.count(1_234_567) == "1,234,567")
        #expect(TopRenderer.number(0.05, decimals: 1) == "0.1")
        #expect(TopRenderer.number(-2.5, decimals: 1) == "-2.5")
        #expect(TopRenderer.count(1e30) == "1e+30")
        #expect(TopRenderer.bytes(3 * 1_048_576) == "3.0 MiB")
    }

    @Test("Sparklines: zero is the lowest block, anything above it is visible, the peak is full")
    func sparkline() {
        #expect(Sparkline.render([0, 1, 1000]) == "▁▂█")
        #expect(Sparkline.render([0, 0]) == "▁▁")
        #expect(Sparkline.render([]) == "")
    }
}
