/// One reading of a bridge's `/metrics`, and when it was taken.
public struct MetricsScrape: Sendable {
    public var samples: [MetricSample]
    /// Seconds on a monotonic clock; only differences between scrapes matter.
    public var time: Double

    public init(samples: [MetricSample], time: Double) {
        self.samples = samples
        self.time = time
    }

    /// Parses Prometheus text taken at `time`.
    public init(text: String, time: Double) throws(TopError) {
        self.init(samples: try PrometheusText.parse(text), time: time)
    }

    /// The samples of `name` whose labels include `matching`.
    public func series(_ name: String, matching: [String: String] = [:]) -> [MetricSample] {
        samples.filter { sample in
            sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The sum of the matching series, or nil when there is none (a metric the
    /// bridge does not export is not the same as zero).
    public func sum(_ name: String, matching: [String: String] = [:]) -> Double? {
        let found = series(name, matching: matching)
        return found.isEmpty ? nil : found.reduce(0) { $0 + $1.value }
    }

    /// The distinct values of `label` across the series of `name`, sorted.
    public func labelValues(_ name: String, _ label: String) -> [String] {
        Array(Set(series(name).compactMap { $0.labels[label] })).sorted()
    }

    /// A histogram's cumulative buckets as (upper bound, count), sorted by bound.
    public func buckets(_ histogram: String) -> [(bound: Double, count: Double)] {
        var byBound: [Double: Double] = [:]
        for sample in series(histogram + "_bucket") {
            guard let le = sample.labels["le"], let bound = PrometheusText.parseValue(Substring(le)) else { continue }
            byBound[bound, default: 0] += sample.value
        }
        return byBound.sorted { $0.key < $1.key }.map { (bound: $0.key, count: $0.value) }
    }
}
