import CIBridgeCore
import Testing

/// Bad bodies get a clear, positioned error and never a crash, a hang or an expansion.
@Suite("Bad input")
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let fixture: String
        let code: DecodeError.Code
        let line: Int?
        let column: Int?
        var testDescription: String { fixture }
    }

    static let cases: [Case] = [
        Case(fixture: "bad/array-root.json", code: .notACallback, line: 1, column: 1),
        Case(fixture: "bad/empty.txt", code: .emptyBody, line: nil, column: nil),
        Case(fixture: "bad/entity-bomb.xml", code: .forbiddenDTD, line: 2, column: 1),
        Case(fixture: "bad/form-encoded.txt", code: .unknownFormat, line: 1, column: 1),
        Case(fixture: "bad/gbk-encoding.xml", code: .unsupportedEncoding, line: 1, column: 21),
        Case(fixture: "bad/invalid-utf8.json", code: .invalidUTF8, line: 2, column: 26),
        Case(fixture: "bad/mismatched-tag.xml", code: .malformedXML, line: 5, column: 1),
        Case(fixture: "bad/not-a-callback.json", code: .notACallback, line: nil, column: nil),
        Case(fixture: "bad/trailing-garbage.json", code: .malformedJSON, line: 1, column: 56),
        Case(fixture: "bad/truncated.json", code: .malformedJSON, line: 20, column: 8),
        Case(fixture: "bad/truncated.xml", code: .malformedXML, line: 30, column: 11),
        Case(fixture: "bad/undefined-entity.xml", code: .malformedXML, line: 1, column: 63),
        Case(fixture: "bad/xxe.xml", code: .forbiddenDTD, line: 2, column: 1),
    ]

    @Test("Each bad fixture fails with its code and position", arguments: cases)
    func badFixture(_ testCase: Case) throws {
        let error = try #require(decodeError(try Fixtures.bytes(testCase.fixture)))
        #expect(error.code == testCase.code)
        #expect(error.position?.line == testCase.line)
        #expect(error.position?.column == testCase.column)
        #expect(!error.message.isEmpty && !error.message.contains("\n"))
    }

    @Test("Every file in Fixtures/bad has a case above")
    func everyBadFixtureIsCovered() {
        #expect(Fixtures.files(in: "bad") == Self.cases.map(\.fixture).sorted())
    }

    /// Inputs the fuzzer (scripts/fuzz) found; each was a finding, fixed.
    @Test("Every input in Fixtures/fuzz is refused with a one-line, bounded reason", arguments: Fixtures.files(in: "fuzz"))
    func fuzzFinding(_ fixture: String) throws {
        let body = try Fixtures.bytes(fixture)
        for contentType in [nil, "application/xml", "application/json"] {
            let error = try #require(decodeError(body, contentType: contentType), "\(fixture) decoded")
            #expect(!error.message.isEmpty && !error.message.contains("\n") && !error.message.contains("\r"), "\(error.message)")
            #expect(error.message.count <= 206)
        }
    }

    @Test("Messages that quote the body are one line and bounded")
    func quotedInputIsOneLine() throws {
        let encoding = String(repeating: "x\n", count: 500)
        let error = try #require(decodeError(Array("<?xml version=\"1.0\" encoding=\"\(encoding)\"?><Response/>".utf8)))
        #expect(error.code == .unsupportedEncoding)
        #expect(!error.message.contains("\n"))
        #expect(error.message.hasSuffix("…"))
        #expect((201...206).contains(error.message.count))
        #expect(DecodeError(.malformedXML, "a\u{1B}[31mred\u{2028}").message == "a\\u{1B}[31mred\\u{2028}")
    }

    @Test("10 000-deep XML nesting is refused at the depth limit")
    func deepXML() {
        let body = "<Response>" + String(repeating: "<a>", count: 10_000) + "x" + String(repeating: "</a>", count: 10_000) + "</Response>"
        let error = decodeError(Array(body.utf8))
        #expect(error?.code == .tooDeep)
        // The 65th element starts right after the root and 63 <a>s.
        #expect(error?.position?.column == 1 + "<Response>".count + 63 * 3)
    }

    @Test("10 000-deep JSON nesting, objects or arrays, is refused")
    func deepJSON() {
        let objects = String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(decodeError(Array(objects.utf8))?.code == .tooDeep)
        let arrays = "{\"a\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(decodeError(Array(arrays.utf8))?.code == .tooDeep)
    }

    @Test("Node count and body size are bounded")
    func sizeLimits() {
        var limits = DecoderLimits.standard
        limits.maxNodes = 100
        let many = "<Response>" + String(repeating: "<JobsDetail><JobId>j</JobId></JobsDetail>", count: 60) + "</Response>"
        #expect(decodeError(Array(many.utf8), limits: limits)?.code == .tooManyNodes)
        let manyJSON = "{\"JobsDetail\":[" + Array(repeating: "{\"JobId\":\"j\"}", count: 60).joined(separator: ",") + "]}"
        #expect(decodeError(Array(manyJSON.utf8), limits: limits)?.code == .tooManyNodes)

        limits = DecoderLimits(maxBodyBytes: 1024)
        let big = "{\"EventName\":\"" + String(repeating: "x", count: 2000) + "\"}"
        let error = decodeError(Array(big.utf8), limits: limits)
        #expect(error?.code == .bodyTooLarge)
        #expect(error?.message == "body is 2016 bytes; the limit is 1024")
    }

    @Test("Invalid UTF-8 of every kind is refused with its byte position", arguments: [
        [0xC0, 0x80],  // overlong NUL
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xE4, 0xB8],  // truncated at the end
        [0x80],  // lone continuation byte
        [0xFF],
    ] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        let body = Array("{\"EventName\":\"".utf8) + sequence + Array("\"}".utf8)
        let error = decodeError(body)
        #expect(error?.code == .invalidUTF8)
        #expect(error?.position?.offset == 14)
        #expect(error?.position?.column == 15)
    }

    @Test("The invalid byte's position is exact after any length of ASCII (validated 8 bytes at a time)", arguments: 0...17)
    func invalidUTF8AfterASCII(prefix: Int) {
        let text = String(repeating: "a", count: prefix)
        for sequence: [UInt8] in [[0xFF], [0xC3, 0xA9, 0xFF], [0xE4, 0xB8]] {
            let body = Array("{\"EventName\":\"\(text)".utf8) + sequence + Array("\"}".utf8)
            let error = decodeError(body)
            #expect(error?.code == .invalidUTF8)
            // A valid two-byte sequence before the bad byte moves it by two.
            #expect(error?.position?.offset == 14 + prefix + (sequence.count == 3 ? 2 : 0), "\(sequence)")
        }
        // And no error when all of it is valid.
        #expect(decodeError(Array("{\"EventName\":\"\(text)é\(text)\"}".utf8))?.code != .invalidUTF8)
    }

    @Test("Malformed details are refused, not guessed", arguments: [
        ("<Response><A>\u{01}</A></Response>", DecodeError.Code.malformedXML),
        ("<Response><A>&#0;</A></Response>", .malformedXML),
        ("<Response><A>&#xD800;</A></Response>", .malformedXML),
        ("<Response><A>a & b</A></Response>", .malformedXML),
        ("<Response><!ENTITY x \"y\"></Response>", .forbiddenDTD),
        ("<Response a=\"1\" a=\"2\"/>", .malformedXML),
        ("<Response><A></Response>", .malformedXML),
        ("<Response>", .malformedXML),
        ("<Response/><Response/>", .malformedXML),
        ("<Response><?xml version=\"1.0\"?></Response>", .malformedXML),
        ("{\"a\":\"\u{01}\"}", .malformedJSON),
        ("{\"a\":\"\\ud800\"}", .malformedJSON),
        ("{\"a\":\"\\x\"}", .malformedJSON),
        ("{\"a\":01}", .malformedJSON),
        ("{\"a\":1.}", .malformedJSON),
        ("{\"a\":tru}", .malformedJSON),
        ("{\"a\" 1}", .malformedJSON),
        ("{\"a\":1,}", .malformedJSON),
        ("{a:1}", .malformedJSON),
        ("\"just a string\"", .unknownFormat),
        ("   \n\t ", .emptyBody),
        ("{}", .notACallback),
        ("<Response/>", .notACallback),
    ])
    func malformed(body: String, code: DecodeError.Code) {
        #expect(decodeError(Array(body.utf8))?.code == code)
    }

    @Test("The entity bomb and XXE bodies are refused before any entity is read")
    func noExpansion() throws {
        for fixture in ["bad/xxe.xml", "bad/entity-bomb.xml"] {
            let error = try #require(decodeError(try Fixtures.bytes(fixture)))
            #expect(error.code == .forbiddenDTD)
            #expect(!error.message.contains("root:"))  // nothing from /etc/passwd
        }
    }
}
