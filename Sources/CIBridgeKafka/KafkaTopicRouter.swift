import CIBridgeCore

/// Chooses each envelope's topic: a template per CloudEvents `type`, and one
/// for everything else. Templates may name envelope attributes in braces,
/// e.g. `ci.{tag}` or `ci.{region}.task-finish`; values are made topic-safe
/// (characters outside `A-Z a-z 0-9 . _ -` become `_`), a missing one is `none`.
public struct KafkaTopicRouter: Sendable, Hashable {
    public var byType: [String: String]
    public var fallback: String

    public init(byType: [String: String], fallback: String) {
        self.byType = byType
        self.fallback = fallback
    }

    /// `ci.task-finish` for TaskFinish, `ci.workflow-finish` for WorkflowFinish, `ci.events` for anything else.
    public static let standard = KafkaTopicRouter(
        byType: [EventType.taskFinish: "ci.task-finish", EventType.workflowFinish: "ci.workflow-finish"],
        fallback: "ci.events")

    /// The topic for an envelope with these attributes.
    public func topic(for fields: EnvelopeFields?) -> String {
        let template = fields?["type"].flatMap { byType[$0] } ?? fallback
        return Self.render(template) { fields?[$0] }
    }

    /// Checks every template: legal characters and balanced braces.
    public func validate() throws(KafkaError) {
        for template in [fallback] + byType.values.sorted() {
            guard !template.isEmpty, template.count <= 249 else {
                throw KafkaError(configuration: "topic template '\(template)' must be 1 to 249 characters")
            }
            var depth = 0
            for character in template {
                switch character {
                case "{": depth += 1
                case "}": depth -= 1
                default:
                    if depth == 0 && !Self.isTopicCharacter(character) {
                        throw KafkaError(configuration: "topic template '\(template)': '\(character)' is not allowed in a Kafka topic")
                    }
                }
                guard depth == 0 || depth == 1 else {
                    throw KafkaError(configuration: "topic template '\(template)': unbalanced braces")
                }
            }
            guard depth == 0 else { throw KafkaError(configuration: "topic template '\(template)': unbalanced braces") }
        }
    }

    static func render(_ template: String, value: (String) -> String?) -> String {
        var output = ""
        var name: String?
        for character in template {
            if character == "{" {
                name = ""
            } else if character == "}", let current = name {
                let text = value(current) ?? "none"
                output += String(text.map { isTopicCharacter($0) ? $0 : "_" })
                name = nil
            } else if name != nil {
                name!.append(character)
            } else {
                output.append(character)
            }
        }
        return String(output.prefix(249))
    }

    static func isTopicCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "_" || character == "-")
    }
}
