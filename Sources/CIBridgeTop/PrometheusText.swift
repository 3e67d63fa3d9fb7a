/// A reader of the Prometheus text exposition format (version 0.0.4), enough
/// for what `/metrics` serves: comments, samples with labels, and the special
/// values `+Inf`, `-Inf` and `NaN`. Timestamps after the value are ignored.
public enum PrometheusText {
    /// Every sample in `text`, in order. A line that is not a comment and not a
    /// sample throws ``TopError`` with its line number.
    public static func parse(_ text: String) throws(TopError) -> [MetricSample] {
        var samples: [MetricSample] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.first == "#" { continue }
            guard let sample = parseSample(Substring(trimmed)) else {
                throw TopError(.malformed, "line \(lineNumber) is not a Prometheus sample: \(trimmed.prefix(120))")
            }
            samples.append(sample)
        }
        return samples
    }

    static func parseSample(_ line: Substring) -> MetricSample? {
        var rest = line[...]
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while true {
                rest = rest.drop { $0 == " " || $0 == "," }
                if rest.first == "}" { rest = rest.dropFirst(); break }
                let key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !key.isEmpty else { return nil }
                rest = rest.dropFirst(key.count)
                guard rest.first == "=" else { return nil }
                rest = rest.dropFirst()
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\"" { closed = true; break }
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
                labels[String(key)] = value
            }
        }
        let fields = rest.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first, fields.count <= 2, let value = parseValue(first) else { return nil }
        return MetricSample(name: String(name), labels: labels, value: value)
    }

    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }
}
