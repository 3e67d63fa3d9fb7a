/// Builds ``CanonicalValue``s for both parsers: the one place where XML and JSON meet.
///
/// The parsers call it bottom-up as they close each element or object, so no
/// intermediate tree is built. The rules:
/// 1. `null`, empty strings and whitespace-only strings are dropped.
/// 2. An object's members with the same name are gathered into one list, in
///    document order; a JSON array contributes each of its elements (nested
///    arrays flattened), the way repeated XML elements do.
/// 3. Dropped values leave the list; a name whose list is empty is dropped.
/// 4. A list becomes an array when it has two or more values or the field is in
///    ``RepeatedFields``; otherwise it is its single value.
/// 5. Members are sorted by the UTF-8 bytes of their names; an object left
///    without members is dropped.
public struct Canonicalizer: Sendable {
    public let repeatedFields: RepeatedFields

    public init(repeatedFields: RepeatedFields = .tencentCI) {
        self.repeatedFields = repeatedFields
    }

    /// The canonical value of a scalar's text; `nil` when it is blank (rule 1).
    @inline(__always)
    public func scalar(_ text: String) -> CanonicalValue? {
        Self.isBlank(text.utf8) ? nil : .string(text)
    }

    /// Whether `bytes` are only spaces, tabs and line ends (or none): text that rule 1 drops.
    @inline(__always)
    static func isBlank(_ bytes: some Sequence<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    }

    /// The canonical object named `name` from its non-empty member values in
    /// document order; a name may occur many times (rules 2 to 5).
    /// `entries` is reordered in place.
    public func object(_ entries: inout [CanonicalMember], name: String) -> CanonicalValue? {
        if entries.isEmpty { return nil }
        // Stable insertion sort by name bytes: values of a repeated name keep
        // their document order. Objects are small, so this beats a general sort.
        if entries.count > 1 {
            for i in 1..<entries.count {
                var j = i
                while j > 0, UTF8Order.less(entries[j].name, entries[j - 1].name) {
                    entries.swapAt(j, j - 1)
                    j -= 1
                }
            }
        }
        var members: [CanonicalMember] = []
        members.reserveCapacity(entries.count)
        var start = 0
        while start < entries.count {
            let memberName = entries[start].name
            var end = start + 1
            while end < entries.count, UTF8Order.equal(entries[end].name, memberName) { end += 1 }
            if end - start == 1 && !repeatedFields.isRepeated(memberName, under: name) {
                members.append(entries[start])
            } else {
                var values: [CanonicalValue] = []
                values.reserveCapacity(end - start)
                for index in start..<end { values.append(entries[index].value) }
                members.append(CanonicalMember(memberName, .array(values)))
            }
            start = end
        }
        return .object(members)
    }
}
