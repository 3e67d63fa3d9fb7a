/// Templates tried in order: a name comes from the first template whose
/// attributes are all present; when none is complete, from the last one with
/// `none` for each missing attribute. A single template is a list of one, so
/// `ci.{tag}` gives `ci.none` for an envelope without a `tag`.
public struct AttributeTemplateList: Sendable, Hashable, CustomStringConvertible {
    public let templates: [AttributeTemplate]

    /// Parses each of `sources` (at least one) against `rules`.
    public init(_ sources: [String], rules: NameRules = .any) throws(TemplateError) {
        guard !sources.isEmpty else { throw TemplateError(.empty, "give at least one template", position: 0) }
        var templates: [AttributeTemplate] = []
        for source in sources { templates.append(try AttributeTemplate(source, rules: rules)) }
        self.templates = templates
    }

    /// The name for an envelope whose attributes `value` looks up.
    public func render(_ value: (String) -> String?, rules: NameRules = .any) -> String {
        for template in templates {
            if let name = template.render(value, rules: rules) { return name }
        }
        return templates[templates.count - 1].renderFillingMissing(value, rules: rules)
    }

    public var description: String { templates.map(\.source).joined(separator: ", ") }
}
