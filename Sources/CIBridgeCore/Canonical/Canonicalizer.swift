/// Turns a ``RawNode`` tree from either parser into its ``CanonicalValue``.
///
/// The one place where XML and JSON meet. The rules, in order:
/// 1. `null`, empty strings and whitespace-only strings are dropped.
/// 2. Members with the same name are gathered into one list, in document order;
///    JSON arrays are flattened into that list (XML cannot nest arrays).
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

    /// The canonical value of `node`, an element or member named `name`;
    /// `nil` when it is empty.
    public func canonicalize(_ node: RawNode, name: String) -> CanonicalValue? {
        switch node {
        case .null:
            return nil
        case .scalar(let text):
            return isBlank(text) ? nil : .string(text)
        case .array(let elements):
            // Only reached for an array outside any object (not a callback shape);
            // treat it like a member list without a name rule.
            let values = elements.flatMap(flatten).compactMap { canonicalize($0, name: name) }
            if values.isEmpty { return nil }
            return values.count == 1 ? values[0] : .array(values)
        case .object(let members):
            return canonicalizeObject(members, name: name)
        }
    }

    private func canonicalizeObject(_ members: [RawMember], name: String) -> CanonicalValue? {
        if members.isEmpty { return nil }
        // Sort member indices by name bytes, original order breaking ties, so
        // values of a repeated name stay in document order.
        let order = members.indices.sorted { left, right in
            let a = members[left].name.utf8
            let b = members[right].name.utf8
            if a.elementsEqual(b) { return left < right }
            return a.lexicographicallyPrecedes(b)
        }
        var result: [CanonicalMember] = []
        result.reserveCapacity(members.count)
        var position = 0
        while position < order.count {
            let memberName = members[order[position]].name
            var values: [CanonicalValue] = []
            while position < order.count, members[order[position]].name.utf8.elementsEqual(memberName.utf8) {
                for raw in flatten(members[order[position]].value) {
                    if let value = canonicalize(raw, name: memberName) { values.append(value) }
                }
                position += 1
            }
            if values.isEmpty { continue }
            if values.count == 1 && !repeatedFields.isRepeated(memberName, under: name) {
                result.append(CanonicalMember(memberName, values[0]))
            } else {
                result.append(CanonicalMember(memberName, .array(values)))
            }
        }
        return result.isEmpty ? nil : .object(result)
    }

    /// A JSON array's elements (nested arrays flattened), or the node itself.
    private func flatten(_ node: RawNode) -> [RawNode] {
        guard case .array(let elements) = node else { return [node] }
        return elements.flatMap(flatten)
    }

    private func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    }
}
