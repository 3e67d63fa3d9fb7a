/// A callback in canonical form: what the envelope's `data` holds.
///
/// Every scalar is a non-empty string, every object has its members sorted by
/// the UTF-8 bytes of their names, empty values and empty containers are gone,
/// and fields that repeat are arrays. The same event gives the same value
/// whether it arrived as XML or JSON. See docs/envelope.md for the rules.
public indirect enum CanonicalValue: Sendable, Hashable {
    case string(String)
    case array([CanonicalValue])
    case object([CanonicalMember])

    /// The member named `name`, when this is an object that has it.
    public subscript(name: String) -> CanonicalValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.name.utf8.elementsEqual(name.utf8) { return member.value }
        return nil
    }

    /// The string, when this is a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements of an array, or this value alone.
    public var elements: [CanonicalValue] {
        if case .array(let values) = self { return values }
        return [self]
    }

    /// Follows a path of member names; a string at the end is returned.
    /// Arrays on the way are entered at their first element.
    public func string(at path: String...) -> String? {
        var current: CanonicalValue? = self
        for name in path {
            current = current?.elements.first?[name]
        }
        return current?.elements.first?.string
    }
}

/// One member of a canonical object.
public struct CanonicalMember: Sendable, Hashable {
    public let name: String
    public let value: CanonicalValue

    public init(_ name: String, _ value: CanonicalValue) {
        self.name = name
        self.value = value
    }
}
