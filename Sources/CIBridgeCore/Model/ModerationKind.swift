/// What a content-moderation (审核) result is about, as Tencent's `EventName`
/// (Detail callbacks) or `data.event` (Simple callbacks) and, for live
/// streams, the job's `Type` say. The names are the ones Tencent's callback
/// pages document (see Tests/CIBridgeCoreTests/Fixtures/SOURCES.md).
public enum ModerationKind: String, Sendable, Hashable, CaseIterable {
    case image
    case video
    case audio
    case text
    case document
    case html
    case live

    /// The kind an event name announces; `nil` for names that are not moderation results.
    ///
    /// Live-stream moderation reports under `ReviewVideo`, told apart only
    /// by the job's `Type`, `live_video` (Detail callbacks; Simple ones carry
    /// nothing that separates live from video).
    public init?(eventName: String, type: String?) {
        if eventName == "ReviewVideo", type == "live_video" {
            self = .live
            return
        }
        switch eventName {
        case "ReviewImage": self = .image
        case "ReviewVideo": self = .video
        case "ReviewAudio": self = .audio
        case "ReviewText": self = .text
        case "ReviewDocument": self = .document
        case "ReviewHtml": self = .html
        default: return nil
        }
    }

    /// The CloudEvents `type` of this kind's results, e.g. `com.tencentcloud.ci.moderation.image`.
    public var eventType: String { EventType.moderationPrefix + rawValue }
}
