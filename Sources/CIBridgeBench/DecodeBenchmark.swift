import ArgumentParser
import CIBridgeCore
import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

struct DecodeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode + envelope throughput for the seed's case 2 (XML) and case 3 (JSON), one core."
    )

    @Option(help: "Directory holding case2-workflow.xml and case3-workflow.json.")
    var fixtures = "Tests/CIBridgeCoreTests/Fixtures/seed"

    @Option(help: "Seconds to run each row, in all.")
    var seconds = 3.0

    @Option(help: "Rounds: every row runs once per round, for its share of --seconds, so that all rows see the machine's slow and fast moments alike.")
    var rounds = 10

    func validate() throws {
        guard seconds > 0, rounds >= 1 else { throw ValidationError("--seconds must be positive and --rounds at least 1") }
    }

    func run() throws {
        let xml = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixtures + "/case2-workflow.xml")))
        let json = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixtures + "/case3-workflow.json")))
        let decoder = CallbackDecoder()
        let builder = EnvelopeBuilder()

        func pipeline(_ body: [UInt8]) -> Int {
            guard let decoded = try? decoder.decode(body) else { fatalError("fixture failed to decode") }
            var bytes = 0
            for envelope in builder.envelopes(for: decoded) { bytes += envelope.jsonBytes().count }
            return bytes
        }
        func parseOnly(_ body: [UInt8]) -> Int {
            guard case .jobs(_, let jobs) = try? decoder.decode(body) else { fatalError("fixture failed to decode") }
            return jobs.count
        }

        var rows: [(name: String, body: () -> Int)] = [
            ("case 2 XML: decode + envelope", { pipeline(xml) }),
            ("case 3 JSON: decode + envelope", { pipeline(json) }),
            ("case 2 XML: decode only (canonical model)", { parseOnly(xml) }),
            ("case 3 JSON: decode only (canonical model)", { parseOnly(json) }),
        ]
        #if canImport(FoundationXML)
        rows.append(("case 2 XML: FoundationXML XMLParser, parse only", { foundationXMLParse(xml) }))
        #endif
        rows.append(("case 3 JSON: Foundation JSONSerialization, parse only", { foundationJSONParse(json) }))

        print("cibridge decode benchmark: \(ProcessInfo.processInfo.processorCount) cores, single-threaded, \(seconds) s per row in \(rounds) rounds")
        print("")
        // Rows take turns, round after round, instead of each running once for
        // all its time: on a shared machine whose speed drifts by tens of per
        // cent within a minute, a row measured alone measures the minute. The
        // median round is printed, and ratios are taken within each round.
        for row in rows { _ = measure(0.05, row.body) }  // warm up
        var rates = Array(repeating: [Double](), count: rows.count)
        for _ in 0..<rounds {
            for (index, row) in rows.enumerated() { rates[index].append(measure(seconds / Double(rounds), row.body)) }
        }

        let width = rows.map(\.name.count).max() ?? 0
        for (index, row) in rows.enumerated() {
            let padded = row.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let median = Self.median(rates[index])
            let spread = "\(String(format: "%.2f", 1e6 / rates[index].max()!))–\(String(format: "%.2f", 1e6 / rates[index].min()!))"
            print("\(padded)  \(String(format: "%10.0f", median)) /s  (\(String(format: "%.2f", 1e6 / median)) µs each; rounds \(spread))")
        }
        print("")
        let xmlRate = Self.median(rates[0])
        print("target: case 2 XML decode + envelope >= 50000 /s per core: \(xmlRate >= 50_000 ? "met" : "NOT met") (\(String(format: "%.2f", xmlRate / 50_000))x)")
        #if canImport(FoundationXML)
        let ratios = zip(rates[0], rates[4]).map { $0 / $1 }
        print("ratio: cibridge XML decode+envelope / FoundationXML parse only = \(String(format: "%.2f", Self.median(ratios)))x (median of the rounds)")
        #endif
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Runs `body` repeatedly for about `seconds` and returns calls per second.
    private func measure(_ seconds: Double, _ body: () -> Int) -> Double {
        var sink = 0
        let clock = ContinuousClock()
        let start = clock.now
        var iterations = 0
        var elapsed = Duration.zero
        while true {
            for _ in 0..<100 { sink &+= body() }
            iterations += 100
            elapsed = clock.now - start
            if elapsed >= .seconds(seconds) { break }
        }
        if sink == Int.min { print(sink) }
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(iterations) / secondsElapsed
    }
}

#if canImport(FoundationXML)
private final class CountingDelegate: NSObject, XMLParserDelegate {
    var elements = 0
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements += 1
    }
}

private func foundationXMLParse(_ bytes: [UInt8]) -> Int {
    let parser = XMLParser(data: Data(bytes))
    let delegate = CountingDelegate()
    parser.delegate = delegate
    _ = parser.parse()
    return delegate.elements
}
#endif

private func foundationJSONParse(_ bytes: [UInt8]) -> Int {
    let object = try? JSONSerialization.jsonObject(with: Data(bytes))
    return (object as? [String: Any])?.count ?? 0
}
