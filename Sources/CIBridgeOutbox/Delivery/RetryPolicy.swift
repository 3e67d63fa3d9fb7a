/// Exponential backoff with full jitter, capped: attempt *n* waits a random time
/// in `[base·2ⁿ⁻¹ / 2, base·2ⁿ⁻¹]`, never more than `maxMilliseconds`.
public struct RetryPolicy: Sendable, Hashable {
    public var baseMilliseconds: Int64
    public var maxMilliseconds: Int64

    public init(baseMilliseconds: Int64 = 200, maxMilliseconds: Int64 = 60_000) {
        self.baseMilliseconds = baseMilliseconds
        self.maxMilliseconds = maxMilliseconds
    }

    /// The delay before retry number `attempt` (1 for the first retry).
    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(maxMilliseconds, baseMilliseconds << Int64(exponent))
        let floor = ceiling / 2
        return floor + Int64.random(in: 0...(ceiling - floor), using: &generator)
    }

    public func delay(attempt: Int) -> Int64 {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
