import CIBridgeCore
import Testing

/// The one template syntax of every sink (Kafka topics, Redis streams).
@Suite("Attribute templates")
struct AttributeTemplateTests {
    static let topic = NameRules(maxLength: 20, allows: { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") })

    @Test("Text and attributes render; values are fitted to the destination's rules")
    func render() throws {
        let template = try AttributeTemplate("ci.{tag}.{region}", rules: Self.topic)
        #expect(template.parts == [.text("ci."), .attribute("tag"), .text("."), .attribute("region")])
        #expect(template.attributes == ["tag", "region"])
        let values = ["tag": "SmartCover", "region": "ap chongqing/1"]
        #expect(template.render({ values[$0] }, rules: Self.topic) == "ci.SmartCover.ap_cho")
        #expect(template.render({ values[$0] }) == "ci.SmartCover.ap chongqing/1")
        #expect(try AttributeTemplate("ci.events").render { _ in nil } == "ci.events")
    }

    @Test("A missing attribute is one that is absent or empty")
    func missing() throws {
        let template = try AttributeTemplate("ci:wf:{workflowid}")
        #expect(template.render { _ in nil } == nil)
        #expect(template.render { _ in "" } == nil)
        #expect(template.renderFillingMissing { _ in "" } == "ci:wf:none")
    }

    @Test("A list uses the first complete template, else the last with none")
    func list() throws {
        let list = try AttributeTemplateList(["ci:wf:{workflowid}", "ci:jobs:{partitionkey}"])
        #expect(list.render { ["workflowid": "w1", "partitionkey": "q"][$0] } == "ci:wf:w1")
        #expect(list.render { ["partitionkey": "q"][$0] } == "ci:jobs:q")
        #expect(list.render { _ in nil } == "ci:jobs:none")
        #expect(try AttributeTemplateList(["ci.{tag}"]).render { _ in nil } == "ci.none")
        #expect(throws: TemplateError.self) { try AttributeTemplateList([]) }
    }

    @Test(
        "Mistakes are refused at load with a code and the position",
        arguments: [
            ("", TemplateError.Code.empty, 0),
            ("ci.{tag", .unbalancedBraces, 7),
            ("ci.tag}", .unbalancedBraces, 7),
            ("ci.{a{b}}", .unbalancedBraces, 6),
            ("ci.{}", .badAttributeName, 5),
            ("ci.{Tag}", .badAttributeName, 5),
            ("bad topic", .badCharacter, 4),
            ("a-very-long-topic-name-indeed", .tooLong, 0),
        ])
    func mistakes(template: String, code: TemplateError.Code, position: Int) {
        #expect {
            _ = try AttributeTemplate(template, rules: Self.topic)
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.code == code && error.position == position
        }
    }
}
