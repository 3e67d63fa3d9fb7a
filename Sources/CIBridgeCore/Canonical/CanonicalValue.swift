/// A callback in canonical form: what the envelope's `data` holds.
///
/// Every scalar is a non-empty string, every object has its members sorted by
/// the UTF-8 bytes of their names, empty values and empty containers are gone,
/// and fields that repeat are arrays. The same event gives the same value
/// whether it arrived as XML or JSON. See docs/envelope.md for the rules.
public enum CanonicalValue: Sendable, Hashable {
    case string(String)
    case array([CanonicalValue])
    case object([CanonicalMember])

    /// The member named `name`, when this is an object that has it.
    public subscript(name: String) -> CanonicalValue? {
        guard case .object(let members) = self else { return nil }
        // Members are sorted by name bytes: binary search.
        var low = 0
        var high = members.count
        while low < high {
            let middle = (low + high) / 2
            let order = UTF8Order.compare(members[middle].name, name)
            if order == 0 { return members[middle].value }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
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

    /// The first element of an array, or this value itself.
    public var first: CanonicalValue? {
        if case .array(let values) = self { return values.first }
        return self
    }

    /// The string of member `name` (the first, when it repeats).
    public func string(at name: String) -> String? {
        self.first?[name]?.first?.string
    }

    /// The string at `outer`.`inner`; arrays on the way are entered at their first element.
    public func string(at outer: String, _ inner: String) -> String? {
        self.first?[outer]?.string(at: inner)
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
