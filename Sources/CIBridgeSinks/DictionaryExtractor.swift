import Tracing

/// Reads a trace context from a `[name: value]` carrier.
public struct DictionaryExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
