import CIBridgeCore
import Testing

/// The XML parser scans character data eight bytes at a time: whatever ends a
/// run (`<`, `&`, a line end, a control character) must be seen at every offset.
@Suite("XML text scan")
struct XMLTextScanTests {
    private static func body(_ text: String) -> [UInt8] {
        Array("<Response><EventName>X</EventName><Note>\(text)</Note></Response>".utf8)
    }

    private static func note(_ text: String) throws -> String? {
        guard case .other(_, let data) = try CallbackDecoder().decode(body(text)) else { return nil }
        return data.string(at: "Note")
    }

    @Test("Line ends, references and a control character are found at each offset of a 20-byte run")
    func everyOffset() throws {
        for offset in 0..<20 {
            let before = String(repeating: "a", count: offset)
            let after = String(repeating: "b", count: 20 - offset)
            #expect(try Self.note(before + "\r\n" + after) == before + "\n" + after, "CR LF at \(offset)")
            #expect(try Self.note(before + "\r" + after) == before + "\n" + after, "CR at \(offset)")
            #expect(try Self.note(before + "&amp;" + after) == before + "&" + after, "&amp; at \(offset)")
            #expect(try Self.note(before + "\t" + after) == before + "\t" + after, "tab at \(offset)")
            #expect(throws: DecodeError.self, "U+0001 at \(offset)") { try Self.note(before + "\u{01}" + after) }
            #expect(throws: DecodeError.self, "'<' at \(offset)") { try Self.note(before + "<" + after) }
        }
    }

    @Test("Blank text between elements is dropped; text with any other character is kept")
    func blankText() throws {
        #expect(try Self.note(" \n\t\r\n ") == nil)
        #expect(try Self.note(" \n x \n") == " \n x \n")
    }
}
