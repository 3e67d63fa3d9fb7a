/// Fields that Tencent documents as repeatable ("Container array", `[]` in its SDKs).
///
/// In canonical form these are always arrays, even with one element, so
/// consumers never have to guess. Any other field becomes an array only when
/// it actually occurs more than once. Both rules apply to XML and JSON alike.
public struct RepeatedFields: Hashable, Sendable {
    private var anywhere: Set<String>
    private var underParent: Set<String>

    /// - Parameters:
    ///   - names: field names that are arrays wherever they occur.
    ///   - paths: `Parent/Child` pairs that are arrays only under that parent.
    public init(names: Set<String>, paths: Set<String>) {
        self.anywhere = names
        self.underParent = paths
    }

    /// Whether `child` inside an element named `parent` is always an array.
    public func isRepeated(_ child: String, under parent: String) -> Bool {
        if anywhere.contains(child) { return true }
        return underParent.contains(parent + "/" + child)
    }

    /// The fields Tencent Cloud Infinite documents as repeatable in callbacks.
    public static let tencentCI = RepeatedFields(
        names: ["JobsDetail", "CosHeaders", "Tasks"],
        paths: [
            "Stream/Audio", "Stream/Video", "Stream/Subtitle",
            "OutputFile/ObjectName", "OutputFile/Md5Info",
            "ResultInfo/ObjectInfo",
        ]
    )
}
