import Metrics
import Synchronization

/// The `cibridge_callbacks_total` counters made so far, by result and status.
///
/// Made once each: making a metric goes through the factory's lock and label
/// handling on every call.
final class OutcomeCounters: Sendable {
    private struct Key: Hashable {
        let result: String
        let status: Int
    }

    private let factory: any MetricsFactory
    /// Confinement: any thread (request tasks, event loops) takes it for one
    /// dictionary look-up, and to insert a counter the first time an outcome
    /// occurs; nothing else happens under it.
    private let counters = Mutex<[Key: Metrics.Counter]>([:])
    /// `cibridge_callbacks_refused_total` per reason, the same way.
    private let refusals = Mutex<[String: Metrics.Counter]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func counter(result: String, status: Int) -> Metrics.Counter {
        let key = Key(result: result, status: status)
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(
                label: "cibridge_callbacks_total", dimensions: [("result", result), ("status", String(status))], factory: factory)
            counters[key] = counter
            return counter
        }
    }

    func refused(reason: String) -> Metrics.Counter {
        refusals.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Metrics.Counter(label: "cibridge_callbacks_refused_total", dimensions: [("reason", reason)], factory: factory)
            counters[reason] = counter
            return counter
        }
    }
}
