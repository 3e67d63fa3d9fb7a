/// Which of Tencent's two moderation callback bodies arrived, the value of its
/// `X-Ci-Content-Version` header.
///
/// cibridge tells them apart by the body's shape, not the header (as it does
/// for XML and JSON): a Detail body has `EventName` and `JobsDetail`, a Simple
/// body lowercase `code`, `message` and `data` with `data.event`.
public enum ContentVersion: String, Sendable, Hashable, CaseIterable {
    case simple = "Simple"
    case detail = "Detail"
}
