/// A name made from envelope attributes: text with attribute names in braces,
/// such as `ci.{tag}.task-finish` (a Kafka topic) or `ci:wf:{workflowid}` (a
/// Redis stream). The one template syntax of every sink; docs/configuration.md
/// ("Attribute templates") describes it.
///
/// - `{name}` is the value of the envelope attribute `name`, one of
///   ``Envelope/attributeNames``.
/// - An attribute that is absent or empty is *missing*: ``render(_:)`` then
///   gives `nil`, and ``AttributeTemplateList`` moves on to its next template.
/// - Values are fitted to the destination's ``NameRules``: characters it does
///   not allow become `_`, and the name is cut at its maximum length.
///
/// Parsed and checked once, when the configuration is loaded; rendering is a
/// walk over the parts.
public struct AttributeTemplate: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case text(String)
        case attribute(String)
    }

    /// The template as written.
    public let source: String
    public let parts: [Part]

    /// Parses `source`, and checks its text against `rules`.
    public init(_ source: String, rules: NameRules = .any) throws(TemplateError) {
        guard !source.isEmpty else { throw TemplateError(.empty, "template is empty", position: 0) }
        var parts: [Part] = []
        var text = ""
        var name: String?
        var textLength = 0
        for (offset, character) in source.enumerated() {
            let position = offset + 1
            switch character {
            case "{":
                guard name == nil else {
                    throw TemplateError(.unbalancedBraces, "template '\(source)': '{' inside braces", position: position)
                }
                if !text.isEmpty { parts.append(.text(text)) }
                text = ""
                name = ""
            case "}":
                guard let current = name else {
                    throw TemplateError(.unbalancedBraces, "template '\(source)': '}' without '{'", position: position)
                }
                guard !current.isEmpty else {
                    throw TemplateError(.badAttributeName, "template '\(source)': empty attribute name", position: position)
                }
                guard Envelope.attributeNames.contains(current) else {
                    throw TemplateError(
                        .unknownAttribute,
                        "template '\(source)': no envelope has the attribute '\(current)' (docs/envelope.md lists them)",
                        position: position - current.count)
                }
                parts.append(.attribute(current))
                name = nil
            default:
                if name != nil {
                    guard character.isASCII, character.isLowercase || character.isNumber else {
                        throw TemplateError(
                            .badAttributeName,
                            "template '\(source)': '\(character)' cannot be in an attribute name (use a-z and 0-9)",
                            position: position)
                    }
                    name!.append(character)
                } else {
                    if let allows = rules.allows, !allows(character) {
                        throw TemplateError(.badCharacter, "template '\(source)': '\(character)' is not allowed here", position: position)
                    }
                    text.append(character)
                    textLength += 1
                }
            }
        }
        guard name == nil else {
            throw TemplateError(.unbalancedBraces, "template '\(source)': '{' without '}'", position: source.count)
        }
        guard textLength <= rules.maxLength else {
            throw TemplateError(.tooLong, "template '\(source)' is longer than \(rules.maxLength) characters", position: 0)
        }
        if !text.isEmpty { parts.append(.text(text)) }
        self.source = source
        self.parts = parts
    }

    /// The attribute names the template uses, in order.
    public var attributes: [String] {
        parts.compactMap { if case .attribute(let name) = $0 { name } else { nil } }
    }

    /// The name for an envelope whose attributes `value` looks up, or `nil`
    /// when one of them is missing (absent or empty).
    public func render(_ value: (String) -> String?, rules: NameRules = .any) -> String? {
        if parts.count == 1, case .text(let text) = parts[0] { return text }
        var output = ""
        for part in parts {
            switch part {
            case .text(let text): output += text
            case .attribute(let name):
                guard let text = value(name), !text.isEmpty else { return nil }
                if let allows = rules.allows {
                    output += String(text.map { allows($0) ? $0 : rules.replacement })
                } else {
                    output += text
                }
            }
        }
        return output.count > rules.maxLength ? String(output.prefix(rules.maxLength)) : output
    }

    /// The name with `none` for every missing attribute: what a list uses when
    /// no template of it is complete.
    public func renderFillingMissing(_ value: (String) -> String?, rules: NameRules = .any) -> String {
        render({ name in value(name).flatMap { $0.isEmpty ? nil : $0 } ?? "none" }, rules: rules)!
    }

    public var description: String { source }
}
