/// A configuration mistake: the key (as written in YAML, e.g. `http.listen`, or
/// the variable or flag it came from) and one line saying what is wrong.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}
