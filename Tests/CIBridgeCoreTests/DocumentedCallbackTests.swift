import CIBridgeCore
import Foundation
import Testing

/// Every callback shape Tencent documents (Fixtures/callbacks, sources in
/// Fixtures/SOURCES.md): what each decodes to.
@Suite("Tencent's documented callbacks")
struct DocumentedCallbackTests {
    static let corpus = Fixtures.files(in: "callbacks").filter { $0.hasSuffix(".json") || $0.hasSuffix(".xml") }

    /// What each fixture must become: a type, or `nil` for a test request.
    static func expectedType(_ fixture: String) -> String? {
        let name = (fixture as NSString).lastPathComponent
        if name.contains("-test") { return nil }
        if name.hasPrefix("workflow-") { return EventType.workflowFinish }
        if name.hasPrefix("job-") { return EventType.taskFinish }
        if name == "moderation-text-simple-console.json" { return EventType.moderationUnspecified }
        // Simple callbacks cannot tell live streams from videos: both say ReviewVideo.
        if name == "moderation-live-simple.json" { return ModerationKind.video.eventType }
        let kind = name.split(separator: "-")[1]
        return EventType.moderationPrefix + (kind == "webpage" ? "html" : kind)
    }

    @Test("Each documented shape decodes to its type; test requests publish nothing", arguments: corpus)
    func decodes(fixture: String) throws {
        let body = try CallbackDecoder().decode(Fixtures.bytes(fixture))
        let envelopes = EnvelopeBuilder().envelopes(for: body)
        guard let type = Self.expectedType(fixture) else {
            guard case .testPing = body else {
                Issue.record("\(fixture) is a test request, decoded as \(body)")
                return
            }
            #expect(envelopes.isEmpty)
            return
        }
        #expect(!envelopes.isEmpty)
        #expect(envelopes.allSatisfy { $0.type == type }, "\(fixture): \(envelopes.map(\.type))")
        // Templates accept exactly the attributes envelopes have.
        for envelope in envelopes {
            #expect(Set(envelope.attributes.keys).isSubset(of: Envelope.attributeNames), "\(fixture)")
        }
        if type.hasPrefix(EventType.moderationPrefix) || type == EventType.moderationUnspecified {
            for envelope in envelopes {
                let attributes = envelope.attributes
                #expect(attributes["contentversion"] != nil)
                #expect(attributes["interim"] == "true" || attributes["interim"] == "false")
                #expect(envelope.partitionKey == attributes["jobid"] ?? attributes["traceid"], "\(fixture)")
                // A result with a verdict also names its label.
                if attributes["verdict"] != nil, attributes["state"] != "Failed" {
                    #expect(attributes["label"] != nil || fixture.hasSuffix("nolabel.json"), "\(fixture)")
                }
            }
        }
    }

    @Test("Where Tencent shows one event as XML and as JSON, the envelopes are byte-identical")
    func pairs() throws {
        let names = Set(Self.corpus.map { ($0 as NSString).deletingPathExtension })
        let paired = names.filter { Self.corpus.contains($0 + ".xml") && Self.corpus.contains($0 + ".json") }
        #expect(paired.count >= 15)
        for base in paired.sorted() {
            let xml = try envelopeLines(Fixtures.bytes(base + ".xml"))
            let json = try envelopeLines(Fixtures.bytes(base + ".json"))
            #expect(!xml.isEmpty)
            #expect(xml == json, "\(base)")
        }
    }

    @Test("A JSON body wrapped in Response decodes as the same body unwrapped")
    func responseWrapper() throws {
        let plain = try Fixtures.bytes("seed/case3-workflow.json")
        let wrapped = Array(#"{"Response":"#.utf8) + plain + Array("}".utf8)
        #expect(try envelopeLines(wrapped) == envelopeLines(plain))
        #expect(try !envelopeLines(Fixtures.bytes("callbacks/job-wordsgeneralize.json")).isEmpty)
        // Only a lone Response member is a wrapper.
        let notAWrapper = Array(#"{"Response":{"JobsDetail":{"JobId":"j1"}},"Other":"x"}"#.utf8)
        #expect(decodeError(notAWrapper)?.code == .notACallback)
    }

    @Test("Moderation attributes: verdict, label, content version, interim results, subject")
    func moderationAttributes() throws {
        func attributes(_ fixture: String) throws -> [String: String] {
            try #require(try envelopes(Fixtures.bytes("callbacks/" + fixture)).first).attributes
        }
        let image = try attributes("moderation-image-detail.json")
        #expect(image["verdict"] == "block")
        #expect(image["label"] == "Porn")
        #expect(image["contentversion"] == "Detail")
        #expect(image["eventname"] == "ReviewImage")
        #expect(image["source"] == "/tencent-ci/buckets/media-1250000000")

        let simple = try attributes("moderation-image-simple.json")
        #expect(simple["contentversion"] == "Simple")
        #expect(simple["verdict"] == "block")
        #expect(simple["label"] == "Porn")
        #expect(simple["traceid"] == simple["partitionkey"])
        #expect(simple["subject"]?.hasPrefix("https://") == true)

        // Documents and web pages give their verdict as Suggestion.
        #expect(try attributes("moderation-document-detail.json")["verdict"] == "review")
        #expect(try attributes("moderation-webpage-detail.json")["verdict"] == "block")

        // Live streams report while Auditing: interim results.
        let live = try attributes("moderation-live-detail-auditing.json")
        #expect(live["type"] == ModerationKind.live.eventType)
        #expect(live["interim"] == "true")
        #expect(try attributes("moderation-live-detail.json")["interim"] == "false")

        // A failed job: no verdict, its error code.
        let failed = try attributes("moderation-video-detail-failed.json")
        #expect(failed["verdict"] == nil)
        #expect(failed["state"] == "Failed")
        #expect(failed["code"] != nil)
    }

    @Test("A Simple body's label comes from the scene that hit, confirmed before suspected")
    func simpleLabels() throws {
        func label(_ data: String) throws -> String? {
            let body = #"{"code":0,"message":"success","data":{"event":"ReviewImage","trace_id":"si1",\#(data)}}"#
            return try #require(try envelopes(Array(body.utf8)).first).attributes["label"]
        }
        #expect(try label(#""result":0,"porn_info":{"hit_flag":0}"#) == "Normal")
        #expect(try label(#""result":2,"ads_info":{"hit_flag":2},"porn_info":{"hit_flag":0}"#) == "Ads")
        #expect(try label(#""result":1,"ads_info":{"hit_flag":2},"politics_info":{"hit_flag":1}"#) == "Politics")
        #expect(try label(#""result":1,"porn_info":{"hit_flag":1},"ads_info":{"hit_flag":1}"#) == "Porn")
        #expect(try label(#""result":1,"quality_info":{"hit_flag":1,"label":"blurred"}"#) == "Quality")
        #expect(try label(#""result":1"#) == nil)
    }

    @Test("Test requests are recognised with and without an event name, in either shape")
    func testRequests() throws {
        for fixture in Self.corpus where Self.expectedType(fixture) == nil {
            guard case .testPing(let message) = try CallbackDecoder().decode(Fixtures.bytes(fixture)) else {
                Issue.record("\(fixture) is not a test ping")
                continue
            }
            #expect(message == "Test request when setting callback url")
        }
        let withoutEvent = try Fixtures.bytes("callbacks/moderation-text-test-console.json")
        #expect(!String(decoding: withoutEvent, as: UTF8.self).contains("\"event\""))
    }

    @Test("Moderation lists are arrays even with one entry; a result's CosHeaders map stays a map")
    func moderationArrays() throws {
        let video = try #require(try envelopes(Fixtures.bytes("callbacks/moderation-video-detail.json")).first)
        guard case .array = video.data["Snapshot"], case .array = video.data["AudioSection"] else {
            Issue.record("Snapshot or AudioSection is not an array")
            return
        }
        guard case .object = video.data["CosHeaders"] else {
            Issue.record("CosHeaders of a moderation result is not a map")
            return
        }
        // A snapshot job's settings (`Operation/Snapshot`) stay an object.
        let xml = "<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId><Tag>Snapshot</Tag>"
            + "<Operation><Snapshot><Mode>Interval</Mode><Count>3</Count></Snapshot></Operation></JobsDetail></Response>"
        let snapshot = try #require(try envelopes(Array(xml.utf8)).first)
        guard case .object = snapshot.data["Operation"]?["Snapshot"] else {
            Issue.record("Operation/Snapshot is not an object")
            return
        }
    }
}
