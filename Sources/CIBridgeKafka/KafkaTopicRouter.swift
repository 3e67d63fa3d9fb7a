import CIBridgeCore

/// Chooses each envelope's topic: a template per CloudEvents `type`, and one
/// for everything else. Templates are ``AttributeTemplate``s, e.g. `ci.{tag}`
/// or `ci.{region}.task-finish`; values are made topic-safe (characters outside
/// `A-Z a-z 0-9 . _ -` become `_`), and a missing one is `none`.
public struct KafkaTopicRouter: Sendable, Hashable {
    public let byType: [String: AttributeTemplate]
    public let fallback: AttributeTemplate

    /// What Kafka allows in a topic name.
    public static let topicRules = NameRules(maxLength: 249, allows: isTopicCharacter)

    /// Templates already parsed (against ``topicRules``).
    public init(byType: [String: AttributeTemplate], fallback: AttributeTemplate) {
        self.byType = byType
        self.fallback = fallback
    }

    /// Parses and checks every template against ``topicRules``.
    public init(byType: [String: String], fallback: String) throws(TemplateError) {
        var parsed: [String: AttributeTemplate] = [:]
        for (type, template) in byType { parsed[type] = try AttributeTemplate(template, rules: Self.topicRules) }
        self.init(byType: parsed, fallback: try AttributeTemplate(fallback, rules: Self.topicRules))
    }

    /// `ci.task-finish` for TaskFinish, `ci.workflow-finish` for WorkflowFinish,
    /// `ci.moderation` for every moderation result, `ci.events` for anything else.
    public static let standard = try! KafkaTopicRouter(
        byType: [EventType.taskFinish: "ci.task-finish", EventType.workflowFinish: "ci.workflow-finish"]
            .merging(EventType.moderation.map { ($0, "ci.moderation") }) { first, _ in first },
        fallback: "ci.events")

    /// The topic for an envelope whose attributes `attribute` looks up.
    public func topic(attribute: (String) -> String?) -> String {
        let template = attribute("type").flatMap { byType[$0] } ?? fallback
        return template.render(attribute, rules: Self.topicRules)
            ?? template.renderFillingMissing(attribute, rules: Self.topicRules)
    }

    /// The topic for an envelope with these attributes (`nil`: none known).
    public func topic(for fields: EnvelopeFields?) -> String {
        topic { fields?[$0] }
    }

    @Sendable static func isTopicCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "_" || character == "-")
    }
}
