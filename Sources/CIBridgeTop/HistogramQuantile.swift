/// A quantile from cumulative histogram buckets, the way Prometheus's
/// `histogram_quantile` computes it: find the bucket holding the rank and
/// interpolate linearly inside it. A rank in the `+Inf` bucket answers the
/// highest finite bound, since nothing is known above it.
public enum HistogramQuantile {
    /// `buckets` are (upper bound, cumulative count), sorted by bound; nil when
    /// they hold no observation.
    public static func quantile(_ q: Double, buckets: [(bound: Double, count: Double)]) -> Double? {
        guard let total = buckets.last?.count, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0
        var lowerCount = 0.0
        for bucket in buckets {
            if bucket.count >= rank {
                if bucket.bound == .infinity { return lowerBound }
                let inBucket = bucket.count - lowerCount
                guard inBucket > 0 else { return bucket.bound }
                return lowerBound + (bucket.bound - lowerBound) * (rank - lowerCount) / inBucket
            }
            lowerBound = bucket.bound
            lowerCount = bucket.count
        }
        return lowerBound
    }

    /// The buckets of `current` minus those of `previous`: what was observed
    /// between two scrapes. A counter that went down (the bridge restarted)
    /// gives `current` alone.
    public static func difference(
        _ current: [(bound: Double, count: Double)], _ previous: [(bound: Double, count: Double)]
    ) -> [(bound: Double, count: Double)] {
        let before = Dictionary(previous.map { ($0.bound, $0.count) }, uniquingKeysWith: +)
        let delta = current.map { (bound: $0.bound, count: $0.count - (before[$0.bound] ?? 0)) }
        return delta.contains { $0.count < 0 } ? current : delta
    }
}
