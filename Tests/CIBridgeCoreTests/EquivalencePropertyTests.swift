import CIBridgeCore
import CIBridgeTestSupport
import Testing

/// The central promise: the same event as XML or as JSON gives byte-identical envelopes.
@Suite("XML/JSON equivalence property")
struct EquivalencePropertyTests {
    @Test("Generated callbacks give identical envelopes from XML and from JSON", arguments: 0..<4)
    func generatedCallbacks(batch: UInt64) throws {
        for iteration in 0..<150 as Range<UInt64> {
            let seed = batch * 1_000 + iteration
            var rng = SeededGenerator(seed: seed)
            let callback = GeneratedCallback.random(using: &rng)
            let xml = callback.xml(using: &rng)
            let json = callback.json(using: &rng)
            let fromXML = try envelopeLines(Array(xml.utf8))
            let fromJSON = try envelopeLines(Array(json.utf8))
            #expect(!fromXML.isEmpty, "seed \(seed)")
            #expect(fromXML == fromJSON, "seed \(seed)\nXML: \(xml)\nJSON: \(json)")
            if fromXML != fromJSON { return }
        }
    }
}
