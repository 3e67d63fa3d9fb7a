import CIBridgeCore
import Testing

@Suite("Body format sniffing")
struct BodyFormatTests {
    @Test("The body's first significant byte decides, after a BOM and whitespace", arguments: [
        ("<Response/>", BodyFormat?.some(.xml)),
        ("\u{FEFF}  \n<?xml version=\"1.0\"?><Response/>", .xml),
        ("\t{\"a\":1}", .json),
        ("[1]", .json),
        ("a=b", nil),
        ("", nil),
    ])
    func sniff(body: String, expected: BodyFormat?) {
        let bytes = Array(body.utf8)
        #expect(bytes.withUnsafeBufferPointer(BodyFormat.sniff) == expected)
    }

    @Test("A lying Content-Type does not matter: JSON labelled XML still decodes")
    func lyingContentType() throws {
        let body = Array(#"{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1"}}"#.utf8)
        let decoded = try CallbackDecoder().decode(body, contentType: "application/xml")
        guard case .jobs(_, let jobs) = decoded else {
            Issue.record("not jobs")
            return
        }
        #expect(jobs.first?.jobId == "j1")
    }

    @Test("Content types name formats", arguments: [
        ("application/json; charset=utf-8", BodyFormat?.some(.json)),
        ("text/xml", .xml),
        ("application/cloudevents+json", .json),
        ("application/x-www-form-urlencoded", nil),
    ])
    func contentTypes(header: String, expected: BodyFormat?) {
        #expect(BodyFormat(contentType: header) == expected)
    }
}
