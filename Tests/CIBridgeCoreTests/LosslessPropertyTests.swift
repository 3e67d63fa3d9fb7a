import CIBridgeCore
import Foundation
import Testing

/// Nothing Tencent sends is lost: every non-empty value in a callback body
/// appears in the envelopes built from it. The body is read by Foundation's
/// JSON and XML parsers (``BodyLeaves``), not by cibridge's decoder, and the
/// envelopes from their published JSON bytes.
@Suite("Lossless decoding property")
struct LosslessPropertyTests {
    /// Every callback fixture: Tencent's documented shapes, the seed cases, our own shapes.
    static let corpus = ["callbacks", "seed", "shapes"].flatMap(Fixtures.files(in:)).filter {
        $0.hasSuffix(".json") || $0.hasSuffix(".xml")
    }

    @Test("Every leaf value of the body is in an envelope, at the same names", arguments: corpus)
    func everyLeafArrives(fixture: String) throws {
        let bytes = try Fixtures.bytes(fixture)
        let body = try CallbackDecoder().decode(bytes)
        let envelopes = EnvelopeBuilder().envelopes(for: body)
        if case .testPing = body {
            #expect(envelopes.isEmpty)
            return
        }
        #expect(!envelopes.isEmpty)
        let missing = Self.missingLeaves(body: try BodyLeaves.of(bytes), envelopes: envelopes.map { $0.jsonBytes() })
        #expect(missing.isEmpty, "\(fixture): not in any envelope: \(missing)")
    }

    @Test("The property has teeth: a value the envelope lost is reported")
    func detectsLoss() throws {
        let bytes = try Fixtures.bytes("seed/case3-workflow.json")
        let envelope = try #require(try envelopes(bytes).first)
        var json = String(decoding: envelope.jsonBytes(), as: UTF8.self)
        json = json.replacingOccurrences(of: ",\"UserData\":\"This is my SmartCover job.\"", with: "")
        let missing = Self.missingLeaves(body: try BodyLeaves.of(bytes), envelopes: [Array(json.utf8)])
        #expect(missing.map(\.path) == [["JobsDetail", "Operation", "UserData"]])
    }

    /// The body leaves that no envelope carries. The documented split
    /// (docs/envelope.md, "One callback, how many events") decides where a
    /// leaf goes: a JSON `Response` wrapper is the XML root and is left out;
    /// each `JobsDetail` entry or `WorkflowExecution` becomes an envelope's
    /// `data`; `EventName` becomes the `eventname` attribute; any other body is
    /// `data` whole. Each body leaf uses up one envelope leaf, so a value sent
    /// twice must arrive twice.
    static func missingLeaves(body: [Leaf], envelopes: [[UInt8]]) -> [Leaf] {
        var available: [[String]: [String]] = [:]
        var eventNames: [String] = []
        for bytes in envelopes {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { continue }
            if let name = object["eventname"] as? String { eventNames.append(name) }
            for leaf in BodyLeaves.json(object["data"] ?? [:], path: []) {
                if case .text(let text) = leaf.value { available[leaf.path, default: []].append(text) }
            }
        }
        let wrapped = !body.isEmpty && body.allSatisfy { $0.path.first == "Response" }
        var missing: [Leaf] = []
        for leaf in body {
            var path = wrapped ? Array(leaf.path.dropFirst()) : leaf.path
            if path == ["EventName"] {
                if !eventNames.contains(where: leaf.matches) { missing.append(leaf) }
                continue
            }
            if path.first == "JobsDetail" || path.first == "WorkflowExecution" { path.removeFirst() }
            if let index = available[path]?.firstIndex(where: leaf.matches) {
                available[path]!.remove(at: index)
            } else {
                missing.append(leaf)
            }
        }
        return missing
    }
}
