import CIBridgeCore
import Foundation
import Testing

/// One fixture per callback shape Tencent sends, each in XML and in JSON as
/// Tencent renders it (singleton rule, omitted empties, typed values).
@Suite("Callback shapes")
struct ShapeFixtureTests {
    static let pairs = [
        "failed-job", "multi-jobs", "workflow-finish", "legacy-no-eventname", "unknown-tag", "unicode-keys",
        "typed-values",
    ]

    @Test("XML and JSON of the same event give byte-identical envelopes", arguments: pairs)
    func xmlEqualsJSON(name: String) throws {
        let xml = try envelopeLines(Fixtures.bytes("shapes/\(name).xml"))
        let json = try envelopeLines(Fixtures.bytes("shapes/\(name).json"))
        #expect(!xml.isEmpty)
        #expect(xml == json)
    }

    @Test("Element order, comments, CDATA, an XML declaration and CRLF change nothing")
    func reorderedCase2() throws {
        let reordered = try envelopeLines(Fixtures.bytes("shapes/case2-reordered.xml"))
        let golden = String(decoding: try Fixtures.bytes("golden/case2-workflow.jsonl"), as: UTF8.self)
        #expect(reordered == golden.split(separator: "\n").map(String.init))
    }

    @Test("A failed job keeps its reason; an empty EndTime falls back to StartTime")
    func failedJob() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("shapes/failed-job.xml")).first)
        #expect(envelope.extensions["state"] == "Failed")
        #expect(envelope.extensions["code"] == "InvalidInput")
        #expect(envelope.data["Message"] == .string("The input file is not a valid media file"))
        #expect(envelope.data["EndTime"] == nil)
        #expect(envelope.time == "2023-03-01T10:00:01+08:00")
    }

    @Test("Several JobsDetail give one envelope each, in order")
    func multipleJobs() throws {
        let all = try envelopes(Fixtures.bytes("shapes/multi-jobs.xml"))
        #expect(all.map { $0.extensions["tag"] } == ["PicProcess", "NoiseReduction"])
        #expect(all.map(\.partitionKey) == ["p2911bb5cc774", "p2242ab62c7c94486915508540933a2c6"])
        #expect(Set(all.map(\.id)).count == 2)
        // The empty <Etag/> of ProcessResult is dropped, the quoted OriginalInfo Etag kept.
        let result = all[0].data["Operation"]?["PicProcessResult"]
        #expect(result?["ProcessResult"]?["Etag"] == nil)
        #expect(result?["OriginalInfo"]?["Etag"] == .string("\"d5a491cd3d8d071e3212c3478e8e35a1\""))
    }

    @Test("WorkflowFinish: one envelope for the run, time of the last task's end")
    func workflowFinish() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("shapes/workflow-finish.json")).first)
        #expect(envelope.type == EventType.workflowFinish)
        #expect(envelope.partitionKey == "w4699c83bde714bfd8d7f5dbd9b680f79")
        #expect(envelope.extensions["runid"] == "i5f17a1fb400411ee88345254008e464b")
        #expect(envelope.subject == "car.mp4")
        #expect(envelope.time == "2023-08-21T17:25:10+08:00")
        let tasks = try #require(envelope.data["Tasks"])
        #expect(tasks.elements.count == 2)
        // Documented as repeatable: arrays even with one element.
        #expect(envelope.data["CosHeaders"]?.elements.count == 1)
        guard case .array = envelope.data["CosHeaders"] else {
            Issue.record("CosHeaders is not an array")
            return
        }
        guard case .array(let infos) = tasks.elements[1]["ResultInfo"]?["ObjectInfo"] else {
            Issue.record("ObjectInfo is not an array")
            return
        }
        #expect(infos.first?["ObjectName"] == .string("car.mp4.m3u8"))
    }

    @Test("WorkflowStart gets its own type")
    func workflowStart() throws {
        var text = String(decoding: try Fixtures.bytes("shapes/workflow-finish.xml"), as: UTF8.self)
        text = text.replacingOccurrences(of: "<EventName>WorkflowFinish</EventName>", with: "<EventName>WorkflowStart</EventName>")
        let envelope = try #require(try envelopes(Array(text.utf8)).first)
        #expect(envelope.type == EventType.workflowStart)
        #expect(envelope.extensions["eventname"] == "WorkflowStart")
    }

    @Test("A body without EventName is recognised by shape and matches the same body with it")
    func legacyBody() throws {
        let legacy = try #require(try envelopes(Fixtures.bytes("shapes/legacy-no-eventname.xml")).first)
        #expect(legacy.type == EventType.taskFinish)
        #expect(legacy.extensions["eventname"] == "TaskFinish")
        #expect(legacy.source == "/tencent-ci")
        var text = String(decoding: try Fixtures.bytes("shapes/legacy-no-eventname.xml"), as: UTF8.self)
        text = text.replacingOccurrences(of: "<Response>", with: "<Response><EventName>TaskFinish</EventName>")
        let named = try #require(try envelopes(Array(text.utf8)).first)
        #expect(named.jsonBytes() == legacy.jsonBytes())
    }

    @Test("An unknown Tag and unknown nodes pass through whole")
    func unknownTag() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("shapes/unknown-tag.json")).first)
        #expect(envelope.extensions["tag"] == "HologramRender")
        let render = envelope.data["Operation"]?["HologramRender"]
        #expect(render?["Layers"]?["Layer"]?.elements.count == 2)
        #expect(render?["Layers"]?["Layer"]?.elements.first?["Opacity"] == .string("1.0"))
        #expect(envelope.data["Operation"]?["HologramRenderResult"]?["Frames"] == .string("240"))
    }

    @Test("Object keys keep any UTF-8, entities, CDATA and placeholders")
    func unicodeKeys() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("shapes/unicode-keys.xml")).first)
        #expect(envelope.subject == "/相册/2022 夏天/海边 & 日落 ${number}.jpg")
        #expect(envelope.data["Operation"]?["UserData"] == .string("<b>备注</b> & \"quotes\" 'single'"))
        #expect(envelope.time == "2022-08-09T14:54:17+08:00")
    }

    @Test("Typed JSON values become the strings XML carries")
    func typedValues() throws {
        let envelope = try #require(try envelopes(Fixtures.bytes("shapes/typed-values.json")).first)
        let operation = envelope.data["Operation"]
        #expect(operation?["JobLevel"] == .string("0"))
        #expect(operation?["Force"] == .string("false"))
        #expect(operation?["MediaInfo"]?["Format"]?["Bitrate"] == .string("1200.5"))
        #expect(operation?["MediaInfo"]?["Stream"]?["Video"]?.elements.first?["Height"] == .string("320"))
        #expect(operation?["Transcode"]?["TransConfig"]?["IsCheckReso"] == .string("true"))
        #expect(envelope.time == "2024-02-29T23:59:59Z")
    }

    @Test("Tencent's test ping decodes to a ping and publishes nothing")
    func testPing() throws {
        let body = try CallbackDecoder().decode(Fixtures.bytes("shapes/test-ping.json"))
        #expect(body == .testPing(message: "Test request when setting callback url"))
        #expect(EnvelopeBuilder().envelopes(for: body).isEmpty)
    }

    @Test("Delivering the same body twice gives the same id; a changed field gives another")
    func contentIDs() throws {
        let bytes = try Fixtures.bytes("shapes/failed-job.xml")
        let first = try #require(try envelopes(bytes).first)
        let again = try #require(try envelopes(bytes).first)
        #expect(first.id == again.id)
        var text = String(decoding: bytes, as: UTF8.self)
        text = text.replacingOccurrences(of: "<State>Failed</State>", with: "<State>Success</State>")
        let changed = try #require(try envelopes(Array(text.utf8)).first)
        #expect(changed.id != first.id)
    }
}
