import CIBridgeTop
import Testing

@Suite("Histogram quantiles")
struct HistogramQuantileTests {
    let buckets: [(bound: Double, count: Double)] = [(0.005, 10), (0.01, 60), (0.025, 100), (.infinity, 100)]

    @Test("Interpolates inside the bucket holding the rank, as histogram_quantile does")
    func interpolates() throws {
        // rank 50 lies in (0.005, 0.01], 40 of its 50: 0.005 + 0.005 × 40/50.
        let median: Double = try #require(HistogramQuantile.quantile(0.5, buckets: buckets))
        #expect(abs(median - 0.009) < 1e-12)
        // rank 99 lies in (0.01, 0.025], 39 of its 40.
        let p99: Double = try #require(HistogramQuantile.quantile(0.99, buckets: buckets))
        let expected: Double = 0.01 + 0.015 * 39 / 40
        #expect(abs(p99 - expected) < 1e-12)
    }

    @Test("A rank in +Inf answers the highest finite bound; no observations answer nil")
    func edges() {
        #expect(HistogramQuantile.quantile(0.99, buckets: [(0.1, 1), (.infinity, 10)]) == 0.1)
        #expect(HistogramQuantile.quantile(0.5, buckets: [(0.1, 0), (.infinity, 0)]) == nil)
        #expect(HistogramQuantile.quantile(0.5, buckets: []) == nil)
    }

    @Test("The difference of two scrapes is what was observed between them; a reset gives the new counts")
    func difference() {
        let later: [(bound: Double, count: Double)] = [(0.005, 12), (0.01, 70), (0.025, 130), (.infinity, 131)]
        #expect(HistogramQuantile.difference(later, buckets).map(\.count) == [2, 10, 30, 31])
        let restarted: [(bound: Double, count: Double)] = [(0.005, 1), (0.01, 1), (0.025, 2), (.infinity, 2)]
        #expect(HistogramQuantile.difference(restarted, buckets).map(\.count) == [1, 1, 2, 2])
    }
}
