import CIBridgeCore
import Foundation
import Testing

/// The three cases of the callback spec page (copied from shared/fixtures/seed).
@Suite("Seed fixtures")
struct SeedFixtureTests {
    @Test("Each seed case decodes to its golden envelopes", arguments: [
        ("seed/case1-task-api.xml", "golden/case1-task-api.jsonl"),
        ("seed/case2-workflow.xml", "golden/case2-workflow.jsonl"),
        ("seed/case3-workflow.json", "golden/case2-workflow.jsonl"),
    ])
    func matchesGolden(fixture: String, golden: String) throws {
        let lines = try envelopeLines(Fixtures.bytes(fixture))
        let expected = String(decoding: try Fixtures.bytes(golden), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        #expect(lines == expected)
    }

    @Test("Case 2 (XML) and case 3 (JSON) give byte-identical envelopes")
    func xmlAndJSONAreIdentical() throws {
        let xml = try EnvelopeBuilder().envelopes(for: CallbackDecoder().decode(Fixtures.bytes("seed/case2-workflow.xml")))
        let json = try EnvelopeBuilder().envelopes(for: CallbackDecoder().decode(Fixtures.bytes("seed/case3-workflow.json")))
        #expect(xml.count == 1)
        #expect(xml.map { $0.jsonBytes() } == json.map { $0.jsonBytes() })
    }

    @Test("Case 2's envelope carries the workflow routing attributes")
    func workflowAttributes() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("seed/case2-workflow.xml")).first)
        #expect(envelope.type == EventType.taskFinish)
        #expect(envelope.partitionKey == "web6ac56c1ef54dbfa44d7f4103203be9")
        #expect(envelope.subject == "input/demo.mp4")
        #expect(envelope.time == "2022-06-30T15:29:48+08:00")
        #expect(envelope.source == "/tencent-ci/buckets/test-123456789")
        #expect(envelope.extensions["workflowid"] == "web6ac56c1ef54dbfa44d7f4103203be9")
        #expect(envelope.extensions["runid"] == "ic90edd59f84f11ec9d4f525400a3c59f")
        #expect(envelope.extensions["jobid"] == "j6842765cf84611ecb8546d80f2baf56f")
        #expect(envelope.extensions["tag"] == "SmartCover")
        #expect(envelope.extensions["state"] == "Success")
        #expect(envelope.extensions["region"] == "ap-chongqing")
        // Repeated fields are arrays; empty elements are gone; scalars are strings.
        #expect(envelope.data["Input"]?["CosHeaders"]?.elements.count == 4)
        #expect(envelope.data["Operation"]?["MediaResult"]?["OutputFile"]?["ObjectName"]?.elements.count == 5)
        #expect(envelope.data["Operation"]?["MediaInfo"] == nil)
        #expect(envelope.data["Message"] == nil)
        #expect(envelope.data["Operation"]?["JobLevel"] == .string("0"))
    }

    @Test("Case 1 (no workflow) falls back to the queue as partition key")
    func taskAPIPartitionKey() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("seed/case1-task-api.xml")).first)
        #expect(envelope.partitionKey == "p2242ab62c7c94486915508540933a2c6")
        #expect(envelope.extensions["workflowid"] == nil)
    }
}
