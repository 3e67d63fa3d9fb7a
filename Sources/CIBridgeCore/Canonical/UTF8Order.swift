/// Byte-wise comparison of strings' UTF-8, the order canonical objects use.
///
/// Swift's own `<` and `==` on `String` follow Unicode canonical equivalence;
/// the canonical form is defined on bytes so that it is simple to reproduce
/// in any language.
public enum UTF8Order {
    /// Whether `a`'s UTF-8 bytes sort before `b`'s.
    @inline(__always)
    public static func less(_ a: String, _ b: String) -> Bool {
        compare(a, b) < 0
    }

    /// Whether `a` and `b` have the same UTF-8 bytes.
    @inline(__always)
    static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && compare(a, b) == 0
    }

    /// Negative, zero or positive as `a` sorts before, with or after `b`.
    public static func compare(_ a: String, _ b: String) -> Int {
        // Native and small strings lend their bytes in place. `withUTF8` would
        // need a mutable copy of each: a retain and a release per compare,
        // over half of the compare's cost in the decode benchmark's profile.
        let borrowed = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in compare(left, right) }
        }
        if let borrowed, let order = borrowed { return order }
        // Bridged strings (none come from our parsers) have no contiguous UTF-8.
        var a = a
        var b = b
        return a.withUTF8 { left in b.withUTF8 { right in compare(left, right) } }
    }

    @inline(__always)
    private static func compare(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Int {
        let count = min(left.count, right.count)
        var index = 0
        while index < count {
            let l = left[index]
            let r = right[index]
            if l != r { return l < r ? -1 : 1 }
            index += 1
        }
        return left.count - right.count
    }
}
