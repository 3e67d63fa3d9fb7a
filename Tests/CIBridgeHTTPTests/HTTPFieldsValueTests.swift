@testable import CIBridgeHTTP
import HTTPTypes
import Testing

/// The header reads of the request path, against HTTPTypes' own subscript.
@Suite("Header values")
struct HTTPFieldsValueTests {
    @Test("One field, none, several (joined as the subscript joins them), any case of the name")
    func sameAsSubscript() {
        let name = HTTPField.Name("X-Forwarded-For")!
        var fields: HTTPFields = [.contentType: "application/json", .init("x-forwarded-for")!: "198.51.100.7"]
        #expect(fields.value(of: .contentType) == "application/json")
        #expect(fields.value(of: name) == "198.51.100.7")
        #expect(fields.value(of: .authorization) == nil)
        fields.append(HTTPField(name: name, value: "10.0.0.9"))
        #expect(fields.value(of: name) == "198.51.100.7, 10.0.0.9")
        for probe in [HTTPField.Name.contentType, name, .authorization] { #expect(fields.value(of: probe) == fields[probe]) }
    }
}
