/// One content-moderation result: a Detail callback's `JobsDetail` entry, or a
/// whole Simple callback.
///
/// A typed view over the canonical value, like ``JobDetail``: the fields
/// consumers route on are properties, in the same words for every kind and
/// both content versions; everything stays in ``canonical``.
public struct ModerationResult: Sendable, Hashable {
    /// `nil` for a Simple body without `data.event`, an older form Tencent's
    /// console guide still shows: it does not say what was moderated.
    public let kind: ModerationKind?
    public let version: ContentVersion
    /// `EventName` (Detail) or `data.event` (Simple), e.g. `ReviewImage`.
    public let eventName: String?
    /// The `JobsDetail` entry (Detail) or the whole body (Simple); becomes the envelope's `data`.
    public let canonical: CanonicalValue

    public init(kind: ModerationKind?, version: ContentVersion, eventName: String?, canonical: CanonicalValue) {
        self.kind = kind
        self.version = version
        self.eventName = eventName
        self.canonical = canonical
    }

    /// Where the result's own fields are: the entry itself, or a Simple body's `data`.
    private var fields: CanonicalValue? {
        version == .detail ? canonical : canonical["data"]
    }

    /// `JobId` of a Detail result.
    public var jobId: String? { version == .detail ? canonical.string(at: "JobId") : nil }
    /// `data.trace_id` of a Simple result: Tencent's request id, which is the
    /// `JobId` for jobs submitted by API. (Not a W3C trace id.)
    public var traceId: String? { version == .simple ? fields?.string(at: "trace_id") : nil }
    /// `State` of a Detail result (`Success`, `Failed`, `Auditing`, …).
    public var state: String? { version == .detail ? canonical.string(at: "State") : nil }
    /// `Code` (Detail: set when the job failed) or `code` (Simple: `0` on success).
    public var code: String? { version == .detail ? canonical.string(at: "Code") : canonical.string(at: "code") }
    /// The verdict, from `Result` (image, video, audio, live, text),
    /// `Suggestion` (document, web page) or `result` (Simple); `nil` when the
    /// body has none (a failed job).
    public var verdict: ModerationVerdict? {
        let result =
            version == .detail
            ? (canonical.string(at: "Result") ?? canonical.string(at: "Suggestion")) : fields?.string(at: "result")
        return result.flatMap(ModerationVerdict.init(resultCode:))
    }

    /// The CloudEvents `type`: `com.tencentcloud.ci.moderation.<kind>`, or
    /// `com.tencentcloud.ci.moderation` when the body does not say its kind.
    public var eventType: String { kind?.eventType ?? EventType.moderationUnspecified }
    /// The main label: Detail's `Label` (the label of highest priority Tencent
    /// found, `Normal` when none), or for Simple results, which carry no
    /// overall label, the one their scenes imply (see ``simpleLabel``).
    public var label: String? {
        version == .detail ? canonical.string(at: "Label") : simpleLabel
    }
    /// Whether more results for the same job will follow: live streams report
    /// while their job is `Auditing`.
    public var isInterim: Bool { state == "Auditing" }
    /// `BucketId`.
    public var bucket: String? { fields?.string(at: "BucketId") }
    /// `Region`.
    public var region: String? { fields?.string(at: "Region") }
    /// What was moderated: `Object` or `Url` (Detail), `url` (Simple).
    public var subject: String? {
        version == .detail ? (canonical.string(at: "Object") ?? canonical.string(at: "Url")) : fields?.string(at: "url")
    }
    /// `DataId` / `data_id`: the caller's own id, given when the job was submitted.
    public var dataId: String? { version == .detail ? canonical.string(at: "DataId") : fields?.string(at: "data_id") }
    /// `CreationTime` of a Detail result.
    public var creationTime: String? { version == .detail ? canonical.string(at: "CreationTime") : nil }

    /// A Simple result's main label: `Normal` when its `result` is `0`;
    /// otherwise the category of the scene that hit (`hit_flag` `1` before
    /// `2`), spelt as Detail callbacks spell it: `porn_info` → `Porn`. (A
    /// scene's own `label` is a matched keyword, or empty, not a category.)
    /// Scenes that hit alike are taken in ``simpleScenes`` order, then any
    /// other `*_info` scene by name.
    var simpleLabel: String? {
        guard let fields, case .object(let members) = fields else { return nil }
        if fields.string(at: "result") == "0" { return "Normal" }
        let known = Self.simpleScenes.map(\.scene)
        let others = members.map(\.name).filter { $0.hasSuffix("_info") && !known.contains($0) }
        for flag in ["1", "2"] {
            for scene in known + others where fields[scene]?.string(at: "hit_flag") == flag {
                return Self.simpleScenes.first { $0.scene == scene }?.label ?? Self.category(ofScene: scene)
            }
        }
        return nil
    }

    /// Simple callbacks' scene objects and the label each stands for, in the
    /// order a tie is broken.
    static let simpleScenes: [(scene: String, label: String)] = [
        ("porn_info", "Porn"), ("terrorist_info", "Terrorism"), ("politics_info", "Politics"),
        ("ads_info", "Ads"), ("illegal_info", "Illegal"), ("abuse_info", "Abuse"), ("teenager_info", "Teenager"),
        ("meaningless_info", "Meaningless"),
    ]

    /// `quality_info` → `Quality`: a scene Tencent may add, named the same way.
    static func category(ofScene scene: String) -> String {
        let name = scene.dropLast("_info".count)
        return name.prefix(1).uppercased() + name.dropFirst()
    }
}
