/// The outcome of a moderation, in words consumers can route on.
///
/// Tencent reports it as a number in `Result` (Detail) or `result` (Simple):
/// `0` normal, `1` sensitive, `2` suspicious, human review recommended.
public enum ModerationVerdict: String, Sendable, Hashable, CaseIterable {
    /// `0`: nothing found.
    case pass
    /// `2`: suspected; Tencent recommends a human look.
    case review
    /// `1`: confirmed sensitive.
    case block

    /// The verdict for Tencent's result code; `nil` for anything else.
    public init?(resultCode: String) {
        switch resultCode {
        case "0": self = .pass
        case "1": self = .block
        case "2": self = .review
        default: return nil
        }
    }
}
