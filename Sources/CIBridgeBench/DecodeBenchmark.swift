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

    @Option(help: "Seconds to run each measurement.")
    var seconds = 3.0

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

        print("cibridge decode benchmark: \(ProcessInfo.processInfo.processorCount) cores, single-threaded, \(seconds) s per row")
        print("")
        var rows: [(String, Double)] = []
        rows.append(("case 2 XML: decode + envelope", measure(seconds) { pipeline(xml) }))
        rows.append(("case 3 JSON: decode + envelope", measure(seconds) { pipeline(json) }))
        rows.append(("case 2 XML: decode only (canonical model)", measure(seconds) { parseOnly(xml) }))
        rows.append(("case 3 JSON: decode only (canonical model)", measure(seconds) { parseOnly(json) }))
        #if canImport(FoundationXML)
        rows.append(("case 2 XML: FoundationXML XMLParser, parse only", measure(seconds) { foundationXMLParse(xml) }))
        #endif
        rows.append(("case 3 JSON: Foundation JSONSerialization, parse only", measure(seconds) { foundationJSONParse(json) }))

        let width = rows.map(\.0.count).max() ?? 0
        for (name, rate) in rows {
            let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(padded)  \(String(format: "%10.0f", rate)) /s  (\(String(format: "%.2f", 1e6 / rate)) µs each)")
        }
        print("")
        print("target: case 2 XML decode + envelope >= 50000 /s per core: \(rows[0].1 >= 50_000 ? "met" : "NOT met") (\(String(format: "%.2f", rows[0].1 / 50_000))x)")
        #if canImport(FoundationXML)
        print("ratio: cibridge XML decode+envelope / FoundationXML parse only = \(String(format: "%.2f", rows[0].1 / rows[4].1))x")
        #endif
    }

    /// Runs `body` repeatedly for about `seconds` and returns calls per second.
    private func measure(_ seconds: Double, _ body: () -> Int) -> Double {
        var sink = 0
        for _ in 0..<200 { sink &+= body() }  // warm up
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
