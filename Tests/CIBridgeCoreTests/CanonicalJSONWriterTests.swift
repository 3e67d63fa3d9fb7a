import CIBridgeCore
import Foundation
import Testing

@Suite("Canonical JSON writer")
struct CanonicalJSONWriterTests {
    @Test("Strings are escaped minimally and everything else stays UTF-8")
    func escaping() {
        let value = CanonicalValue.string("a\"b\\c/d\n\t\u{01}é😀\u{7F}")
        let text = String(decoding: CanonicalJSONWriter().bytes(of: value), as: UTF8.self)
        #expect(text == "\"a\\\"b\\\\c/d\\n\\t\\u0001é😀\u{7F}\"")
    }

    @Test("Compact output has no whitespace; pretty output parses to the same value")
    func compactAndPretty() throws {
        let value = CanonicalValue.object([
            CanonicalMember("A", .array([.string("1"), .object([CanonicalMember("B", .string("x y"))])])),
            CanonicalMember("C", .string("z")),
        ])
        let compact = CanonicalJSONWriter().bytes(of: value)
        #expect(String(decoding: compact, as: UTF8.self) == "{\"A\":[\"1\",{\"B\":\"x y\"}],\"C\":\"z\"}")
        let pretty = CanonicalJSONWriter(pretty: true).bytes(of: value)
        let a = try JSONSerialization.jsonObject(with: Data(compact)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: Data(pretty)) as? NSDictionary
        #expect(a != nil && a == b)
    }

    @Test("Canonical objects sort members by UTF-8 bytes, not by locale or Unicode rules")
    func byteOrder() throws {
        // 'Z' (0x5A) < 'a' (0x61) < 'é' (0xC3 0xA9) < '名' (0xE5 ...)
        let body = Array(#"{"EventName":"X","名":"4","é":"3","a":"2","Z":"1"}"#.utf8)
        guard case .other(_, let data) = try CallbackDecoder().decode(body), case .object(let members) = data else {
            Issue.record("not a generic event")
            return
        }
        #expect(members.map(\.name) == ["EventName", "Z", "a", "é", "名"])
    }
}

@Suite("Canonical JSON writer: escapes at every position")
struct CanonicalJSONEscapeTests {
    /// The length of the minimal escaping of `text`: a named escape (`\"`,
    /// `\\`, `\n`, …) is two bytes, another control character six (`\u00XX`),
    /// every other byte itself.
    private static func minimalLength(_ text: String) -> Int {
        2 + text.utf8.reduce(0) { length, byte in
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: length + 2
            case ..<0x20: length + 6
            default: length + 1
            }
        }
    }

    @Test("Every ASCII byte, and a multi-byte character, at each offset of a 19-byte string")
    func everyByteEverywhere() throws {
        for value in UInt8(0)..<0x80 {
            for offset in 0..<19 {
                var scalars = Array(repeating: Unicode.Scalar(UInt8(ascii: "a")), count: 19)
                scalars[offset] = Unicode.Scalar(value)
                if offset != 18 { scalars[18] = "é" }
                var text = ""
                text.unicodeScalars.append(contentsOf: scalars)
                var output: [UInt8] = []
                CanonicalJSONWriter.writeString(text, into: &output)
                // Foundation's parser reads back the same text, and nothing was escaped that need not be.
                let parsed = try JSONSerialization.jsonObject(with: Data(output), options: .fragmentsAllowed) as? String
                #expect(parsed == text, "byte \(value) at \(offset)")
                #expect(output.count == Self.minimalLength(text), "byte \(value) at \(offset)")
            }
        }
    }
}
