import Foundation

/// Draws a ``TopView`` as text. `.terminal` adds colour and is meant to be
/// redrawn in place; `.plain` has no escape codes, for pipes and logs.
public struct TopRenderer: Sendable {
    public enum Style: Sendable { case terminal, plain }

    public let style: Style

    public init(style: Style) {
        self.style = style
    }

    /// The frame's lines. `clock` is the wall-clock time shown in the header.
    public func render(_ view: TopView, clock: String) -> String {
        var lines: [String] = []
        let every = view.interval.map { "every \(Self.number($0, decimals: 1)) s" } ?? "first reading"
        lines.append(bold("cibridge top") + "  \(view.source)  \(clock)  \(every)")
        if let unreachable = view.unreachable {
            lines.append(color(.red, "! cannot read the bridge: \(unreachable); the figures below are the last read"))
        }
        lines.append("")

        let rate = view.intakePerSecond.map { Self.number($0, decimals: 1) + "/s" } ?? "–/s"
        lines.append(bold("INTAKE") + "   \(rate)   latency p50 \(Self.duration(view.latencyP50))  p99 \(Self.duration(view.latencyP99))"
            + "   refused (stored nothing) \(Self.count(view.refused))")
        for outcome in view.outcomes {
            let perSecond = outcome.perSecond.map { Self.number($0, decimals: 1) + "/s" } ?? "–"
            lines.append("  " + Self.pad(outcome.result, 22) + Self.padLeft(perSecond, 10)
                + "   total " + Self.pad(Self.count(outcome.total), 10) + " (" + outcome.statuses.joined(separator: ", ") + ")")
        }
        if view.outcomes.isEmpty { lines.append("  no callbacks yet") }
        lines.append("")

        lines.append(bold("OUTBOX") + "   \(Self.optionalCount(view.outboxRecords)) records   \(Self.bytes(view.outboxBytes))"
            + "   \(Self.optionalCount(view.outboxSegments)) segment\(view.outboxSegments == 1 ? "" : "s")   \(Self.optionalCount(view.quarantined)) quarantined")
        lines.append("")

        lines.append(bold(Self.pad("SINK", 10) + Self.pad("STATE", 7) + Self.padLeft("BACKLOG", 9) + Self.padLeft("OLDEST", 10)
            + Self.padLeft("DELIVERED/s", 13) + Self.padLeft("RETRIES", 9) + Self.padLeft("DEAD", 7) + "  BACKLOG HISTORY"))
        for sink in view.sinks {
            let state: String
            switch sink.connected {
            case true?: state = color(.green, Self.pad("up", 7))
            case false?: state = color(.red, Self.pad("DOWN", 7))
            case nil: state = Self.pad("?", 7)
            }
            let backlog = Self.padLeft(Self.count(sink.backlog), 9)
            lines.append(Self.pad(sink.name, 10) + state + (sink.backlog > 0 ? color(.yellow, backlog) : backlog)
                + Self.padLeft(Self.duration(sink.oldestPendingSeconds), 10)
                + Self.padLeft(sink.deliveredPerSecond.map { Self.number($0, decimals: 1) } ?? "–", 13)
                + Self.padLeft(Self.count(sink.retries), 9)
                + Self.padLeft(Self.count(sink.deadLetters), 7)
                + "  " + Sparkline.render(sink.backlogHistory) + Self.peak(sink.backlogHistory))
        }
        if view.sinks.isEmpty { lines.append("no sinks configured") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The sparkline's scale: its tallest block is this backlog.
    static func peak(_ history: [Double]) -> String {
        guard let highest = history.max(), highest > 0 else { return "" }
        return " peak " + count(highest)
    }

    // MARK: - Styling

    enum Colour: String { case red = "31", green = "32", yellow = "33" }

    func bold(_ text: String) -> String { style == .terminal ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    func color(_ colour: Colour, _ text: String) -> String {
        style == .terminal ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    // MARK: - Numbers

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }

    /// `1234.5` with `decimals` digits after the point, grouped by thousands.
    static func number(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "–" }
        let scale = Double((0..<decimals).reduce(1) { result, _ in result * 10 })
        // Beyond what Int64 holds (no real figure gets there): scientific notation, not a crash.
        guard abs(value) * scale < 9e18 else { return String(format: "%.3g", value) }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        let fraction = scaled % Int64(scale)
        var text = grouped(whole)
        if decimals > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: decimals - digits.count) + digits
        }
        return value < 0 && scaled != 0 ? "-" + text : text
    }

    static func count(_ value: Double) -> String { number(value, decimals: 0) }

    static func optionalCount(_ value: Double?) -> String { value.map(count) ?? "?" }

    static func grouped(_ value: Int64) -> String {
        let digits = Array(String(value))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }

    /// `850 µs`, `4.1 ms`, `12.3 s`, `5.0 min`; `–` for nil.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "–" }
        if seconds == 0 { return "0 s" }
        if seconds < 0.001 { return number(seconds * 1_000_000, decimals: 0) + " µs" }
        if seconds < 1 { return number(seconds * 1000, decimals: 1) + " ms" }
        if seconds < 120 { return number(seconds, decimals: 1) + " s" }
        if seconds < 7200 { return number(seconds / 60, decimals: 1) + " min" }
        return number(seconds / 3600, decimals: 1) + " h"
    }

    static func bytes(_ value: Double?) -> String {
        guard let value else { return "? bytes" }
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var scaled = value
        var unit = 0
        while scaled >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? count(value) + " bytes" : number(scaled, decimals: 1) + " " + units[unit]
    }
}
