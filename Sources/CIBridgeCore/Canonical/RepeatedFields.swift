/// Fields that Tencent documents as repeatable ("Container array", `[]` in its SDKs).
///
/// In canonical form these are always arrays, even with one element, so
/// consumers never have to guess. Any other field becomes an array only when
/// it actually occurs more than once. Both rules apply to XML and JSON alike.
public struct RepeatedFields: Hashable, Sendable {
    /// (child, parent) pairs; a `nil` parent matches any parent.
    private let rules: [Rule]

    private struct Rule: Hashable, Sendable {
        let child: String
        let parent: String?
    }

    /// - Parameters:
    ///   - names: field names that are arrays wherever they occur.
    ///   - paths: `Parent/Child` pairs that are arrays only under that parent.
    public init(names: Set<String>, paths: Set<String>) {
        var rules = names.map { Rule(child: $0, parent: nil) }
        for path in paths {
            let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
            precondition(parts.count == 2, "a repeated-field path is Parent/Child, got \(path)")
            rules.append(Rule(child: parts[1], parent: parts[0]))
        }
        self.rules = rules.sorted { ($0.child, $0.parent ?? "") < ($1.child, $1.parent ?? "") }
    }

    /// Whether `child` inside an element named `parent` is always an array.
    public func isRepeated(_ child: String, under parent: String) -> Bool {
        // A few short ASCII names: a linear scan of small-string compares beats
        // hashing. (`==` is exact here: an ASCII string equals only itself.)
        for rule in rules where rule.child == child {
            guard let ruleParent = rule.parent else { return true }
            if ruleParent == parent { return true }
        }
        return false
    }

    /// The fields Tencent Cloud Infinite documents as repeatable in callbacks:
    /// job and workflow callbacks, and the moderation results' lists
    /// (fields whose type the moderation pages give as Array).
    public static let tencentCI = RepeatedFields(
        names: ["JobsDetail", "Tasks", "AudioSection", "OcrResults", "LibResults", "ListResults"],
        paths: [
            // The `{Key, Value}` list of the input's headers; a moderation
            // result's `CosHeaders` is one map, `{"x-cos-meta-id": …}`.
            "Input/CosHeaders", "WorkflowExecution/CosHeaders",
            "Stream/Audio", "Stream/Video", "Stream/Subtitle",
            "OutputFile/ObjectName", "OutputFile/Md5Info",
            "ResultInfo/ObjectInfo",
            // Moderation. `Snapshot` and `Section` only as results: `Operation/Snapshot`
            // is a snapshot job's settings. `Keywords` is a list in OCR and
            // library results, but one comma-separated string in text results.
            "JobsDetail/Snapshot", "JobsDetail/Section",
            "PageSegment/Results", "ImageResults/Results", "TextResults/Results",
            "OcrResults/Keywords", "LibResults/Keywords",
        ]
    )
}
