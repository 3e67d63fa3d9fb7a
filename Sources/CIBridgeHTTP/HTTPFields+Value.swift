import HTTPTypes

extension HTTPFields {
    /// The same as `self[name]`, without its cost in the usual case of a
    /// field that occurs once: the subscript joins every value of `name` into
    /// a new string, each time (1 % of an accepted callback's CPU for the
    /// handful of fields read per request). Several fields of `name` are
    /// still joined, as the subscript joins them.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
