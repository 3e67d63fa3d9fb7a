/// Fields that Tencent documents as repeatable ("Container array", `[]` in its SDKs).
///
/// In canonical form these are always arrays, even with one element, so
/// consumers never have to guess. Any other field becomes an array only when
/// it actually occurs more than once. Both rules apply to XML and JSON alike.
public struct RepeatedFields: Hashable, Sendable {
    /// Per child name: `nil` when it is an array under any parent, else the
    /// parents under which it is one. Looked up for every field of every
    /// callback: one hash of a short name, where a scan of the ~25 rules cost
    /// 1.6 % of an accepted callback's CPU (string compares that mostly fail).
    private let rules: [String: [String]?]
    /// Per name length below 64, a bit for each rule name's first byte (mod
    /// 64) of that length: most fields are no rule's, and this says so without
    /// hashing them.
    private let candidates: [UInt64]

    /// - Parameters:
    ///   - names: field names that are arrays wherever they occur.
    ///   - paths: `Parent/Child` pairs that are arrays only under that parent.
    public init(names: Set<String>, paths: Set<String>) {
        var rules: [String: [String]?] = [:]
        for path in paths {
            let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
            precondition(parts.count == 2, "a repeated-field path is Parent/Child, got \(path)")
            rules[parts[1], default: []]?.append(parts[0])
        }
        // A name repeated anywhere wins over the same name's parent pairs.
        for name in names { rules[name] = .some(nil) }
        self.rules = rules.mapValues { $0?.sorted() }
        var candidates = [UInt64](repeating: 0, count: 64)
        for name in rules.keys {
            let utf8 = name.utf8
            // Longer names are not filtered: they go to the dictionary.
            if let first = utf8.first, utf8.count < 64 { candidates[utf8.count] |= 1 << (first & 63) }
        }
        self.candidates = candidates
    }

    /// Whether `child` inside an element named `parent` is always an array.
    public func isRepeated(_ child: String, under parent: String) -> Bool {
        let utf8 = child.utf8
        if let first = utf8.first, utf8.count < 64, candidates[utf8.count] & (1 << (first & 63)) == 0 { return false }
        guard let parents = rules[child] else { return false }
        guard let parents else { return true }
        return parents.contains(parent)
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
