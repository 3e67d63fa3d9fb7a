/// A small, strict XML parser for callback bodies, producing canonical values
/// through a ``Canonicalizer`` as each element closes.
///
/// It reads UTF-8 XML 1.0 as Tencent sends it: an optional declaration, comments,
/// processing instructions, elements, attributes, character data, CDATA sections,
/// the five predefined entities and character references. Document type
/// declarations and entity declarations are refused, so external entities (XXE)
/// and entity expansion bombs cannot occur: nothing is ever expanded except the
/// predefined entities and numeric character references.
///
/// Written for this job instead of wrapping FoundationXML's `XMLParser`:
/// `cibridge-bench decode` measures both; see docs/performance.md.
struct XMLTreeParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let limits: DecoderLimits
    private let canonicalizer: Canonicalizer
    private var index = 0
    private var nodeCount = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: DecoderLimits, canonicalizer: Canonicalizer) {
        self.bytes = bytes
        self.limits = limits
        self.canonicalizer = canonicalizer
    }

    /// Parses the whole document and returns the root element's canonical content
    /// (`nil` when it is empty). The root's own name is not part of it.
    mutating func parseDocument() throws(DecodeError) -> CanonicalValue? {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        if hasPrefix("<?xml"), index + 5 < bytes.count, isWhitespace(bytes[index + 5]) {
            try parseDeclaration()
        }
        try skipMisc()
        guard index < bytes.count else { throw error(.malformedXML, "no root element") }
        guard bytes[index] == UInt8(ascii: "<") else {
            throw error(.malformedXML, "expected '<' to start the root element, found \(describeByte(at: index))")
        }
        let root = try parseElement(depth: 1)
        try skipMisc()
        guard index == bytes.count else {
            throw error(.malformedXML, "content after the root element")
        }
        return root.value
    }

    // MARK: - Prolog

    private mutating func parseDeclaration() throws(DecodeError) {
        let start = index
        guard let end = find("?>", from: index) else {
            throw error(.malformedXML, "unterminated XML declaration")
        }
        index = end + 2
        guard let keyword = find("encoding", from: start), keyword < end else { return }
        var cursor = keyword + 8
        while cursor < end, isWhitespace(bytes[cursor]) || bytes[cursor] == UInt8(ascii: "=") { cursor += 1 }
        guard cursor < end, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") else {
            throw error(.malformedXML, "malformed encoding in the XML declaration", at: keyword)
        }
        let quote = bytes[cursor]
        let valueStart = cursor + 1
        var valueEnd = valueStart
        while valueEnd < end, bytes[valueEnd] != quote { valueEnd += 1 }
        let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
        let normalised = value.lowercased()
        if normalised != "utf-8" && normalised != "utf8" {
            throw DecodeError(
                .unsupportedEncoding, "unsupported XML encoding '\(value)'; callbacks must be UTF-8",
                at: position(keyword))
        }
    }

    /// Skips whitespace, comments and processing instructions; refuses DTDs.
    private mutating func skipMisc() throws(DecodeError) {
        while true {
            skipWhitespace()
            if hasPrefix("<!--") {
                try skipComment()
            } else if hasPrefix("<?") {
                try skipProcessingInstruction()
            } else if hasPrefix("<!") {
                throw forbiddenDeclaration()
            } else {
                return
            }
        }
    }

    // MARK: - Elements

    /// Parses one element; returns its name and canonical value (`nil` when empty).
    private mutating func parseElement(depth: Int) throws(DecodeError) -> (name: String, value: CanonicalValue?) {
        let elementStart = index
        guard depth <= limits.maxDepth else {
            throw error(.tooDeep, "elements nested deeper than \(limits.maxDepth) levels", at: elementStart)
        }
        try countNode(at: elementStart)
        index += 1  // '<'
        // The canonical root is always named Response, whatever the XML calls it.
        let nameStart = index
        let name = try parseName()
        let nameBytes = UnsafeBufferPointer(rebasing: bytes[nameStart..<index])
        let canonicalName = depth == 1 ? "Response" : name
        var members: [CanonicalMember] = []

        // Attributes.
        while true {
            let hadSpace = skipWhitespace()
            guard index < bytes.count else { throw error(.malformedXML, "unterminated start tag <\(name)>") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "/") {
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") else {
                    throw error(.malformedXML, "expected '/>' to close <\(name)>")
                }
                index += 2
                return (canonicalName, canonicalizer.object(&members, name: canonicalName))
            }
            if byte == UInt8(ascii: ">") {
                index += 1
                break
            }
            guard hadSpace else {
                throw error(.malformedXML, "expected whitespace, '>' or '/>' in <\(name)>, found \(describeByte(at: index))")
            }
            let attributeStart = index
            let attributeName = try parseName()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw error(.malformedXML, "expected '=' after attribute '\(attributeName)'")
            }
            index += 1
            skipWhitespace()
            let value = try parseAttributeValue()
            try countNode(at: attributeStart)
            if attributeName == "xmlns" || attributeName.hasPrefix("xmlns:") { continue }
            if members.contains(where: { $0.name == "@" + attributeName }) {
                throw error(.malformedXML, "duplicate attribute '\(attributeName)' in <\(name)>", at: attributeStart)
            }
            if let value = canonicalizer.scalar(value) {
                members.append(CanonicalMember("@" + attributeName, value))
            }
        }

        // Content.
        var text = TextAccumulator()
        var sawChild = false
        while true {
            let runStart = index
            var sawCarriageReturn = false
            while index < bytes.count {
                // Eight bytes at a time through plain text (values are mostly
                // ids, keys and URLs); the bytes below look at the rest.
                while index + 8 <= bytes.count {
                    let word = ByteWord.load(bytes.baseAddress! + index)
                    if ByteWord.mayHoldByte(below: 0x20, in: word) || ByteWord.mayHold(UInt8(ascii: "<"), in: word)
                        || ByteWord.mayHold(UInt8(ascii: "&"), in: word)
                    { break }
                    index += 8
                }
                guard index < bytes.count else { break }
                let byte = bytes[index]
                if byte == UInt8(ascii: "<") || byte == UInt8(ascii: "&") { break }
                if byte < 0x20 {
                    if byte == UInt8(ascii: "\r") {
                        sawCarriageReturn = true
                    } else if byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\t") {
                        throw error(.malformedXML, "control character U+\(hex(byte)) is not allowed in XML")
                    }
                }
                index += 1
            }
            if index > runStart {
                text.appendRun(runStart..<index, in: bytes, normaliseLineEnds: sawCarriageReturn)
            }
            guard index < bytes.count else {
                throw error(.malformedXML, "unclosed element <\(name)>", at: elementStart)
            }
            if bytes[index] == UInt8(ascii: "&") {
                text.appendDecoded(try parseReference(), in: bytes)
                continue
            }
            // bytes[index] == '<'
            if hasPrefix("</") {
                let closeStart = index
                index += 2
                // Compared as bytes: the closing name needs no String of its own.
                let closeNameStart = index
                try skipName()
                let closeName = UnsafeBufferPointer(rebasing: bytes[closeNameStart..<index])
                guard Self.sameBytes(closeName, nameBytes) else {
                    throw error(
                        .malformedXML, "closing tag </\(String(decoding: closeName, as: UTF8.self))> does not match <\(name)>",
                        at: closeStart)
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
                    throw error(.malformedXML, "expected '>' to end </\(name)>")
                }
                index += 1
                break
            } else if hasPrefix("<!--") {
                try skipComment()
            } else if hasPrefix("<![CDATA[") {
                let contentStart = index + 9
                guard let end = find("]]>", from: contentStart) else {
                    throw error(.malformedXML, "unterminated CDATA section")
                }
                text.appendCDATA(contentStart..<end, in: bytes)
                index = end + 3
            } else if hasPrefix("<!") {
                throw forbiddenDeclaration()
            } else if hasPrefix("<?") {
                try skipProcessingInstruction()
            } else {
                let child = try parseElement(depth: depth + 1)
                if let value = child.value {
                    if members.capacity == 0 { members.reserveCapacity(8) }
                    members.append(CanonicalMember(child.name, value))
                }
                sawChild = true
            }
        }

        // Blank text (the indentation between child elements) is dropped
        // before it becomes a String.
        let value = text.isBlank(in: bytes) ? nil : canonicalizer.scalar(text.string(in: bytes))
        if !sawChild && members.isEmpty { return (canonicalName, value) }
        if let value { members.append(CanonicalMember("#text", value)) }
        return (canonicalName, canonicalizer.object(&members, name: canonicalName))
    }

    private mutating func parseAttributeValue() throws(DecodeError) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw error(.malformedXML, "attribute value must be quoted")
        }
        let quote = bytes[index]
        index += 1
        var text = TextAccumulator()
        while true {
            let runStart = index
            while index < bytes.count, bytes[index] != quote, bytes[index] != UInt8(ascii: "&"),
                bytes[index] != UInt8(ascii: "<")
            {
                index += 1
            }
            if index > runStart { text.appendRun(runStart..<index, in: bytes, normaliseLineEnds: false) }
            guard index < bytes.count else { throw error(.malformedXML, "unterminated attribute value") }
            if bytes[index] == quote {
                index += 1
                return text.string(in: bytes)
            }
            if bytes[index] == UInt8(ascii: "<") {
                throw error(.malformedXML, "'<' is not allowed in an attribute value")
            }
            text.appendDecoded(try parseReference(), in: bytes)
        }
    }

    /// Parses `&name;` or `&#N;` / `&#xH;` at `index` and returns its UTF-8 bytes.
    private mutating func parseReference() throws(DecodeError) -> [UInt8] {
        let start = index
        index += 1
        guard let semicolon = find(";", from: index), semicolon - index <= 32 else {
            throw error(.malformedXML, "'&' must start an entity or character reference ending in ';'", at: start)
        }
        let body = UnsafeBufferPointer(rebasing: bytes[index..<semicolon])
        index = semicolon + 1
        if body.first == UInt8(ascii: "#") {
            var value: UInt32 = 0
            let isHex = body.count > 1 && body[1] == UInt8(ascii: "x")
            let digits = body.dropFirst(isHex ? 2 : 1)
            guard !digits.isEmpty else { throw error(.malformedXML, "empty character reference", at: start) }
            for digit in digits {
                guard let d = digitValue(digit, hex: isHex), value <= 0x10FFFF else {
                    throw error(.malformedXML, "invalid character reference", at: start)
                }
                value = value * (isHex ? 16 : 10) + d
            }
            guard isXMLChar(value), let scalar = Unicode.Scalar(value) else {
                throw error(.malformedXML, "character reference to U+\(String(value, radix: 16, uppercase: true)) is not an XML character", at: start)
            }
            return Array(String(Character(scalar)).utf8)
        }
        switch String(decoding: body, as: UTF8.self) {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        case let other:
            throw error(.malformedXML, "undefined entity '&\(other);' (custom entities are not supported)", at: start)
        }
    }

    // MARK: - Lexical helpers

    private mutating func parseName() throws(DecodeError) -> String {
        let start = index
        try skipName()
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    private mutating func skipName() throws(DecodeError) {
        guard index < bytes.count, isNameStart(bytes[index]) else {
            throw error(.malformedXML, "expected a name, found \(describeByte(at: index))")
        }
        index += 1
        while index < bytes.count, isNameChar(bytes[index]) { index += 1 }
    }

    @inline(__always)
    private static func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }

    private mutating func skipComment() throws(DecodeError) {
        let start = index
        guard let end = find("-->", from: index + 4) else {
            throw error(.malformedXML, "unterminated comment", at: start)
        }
        index = end + 3
    }

    private mutating func skipProcessingInstruction() throws(DecodeError) {
        let start = index
        if hasPrefix("<?xml"), index + 5 < bytes.count,
            isWhitespace(bytes[index + 5]) || bytes[index + 5] == UInt8(ascii: "?")
        {
            throw error(.malformedXML, "XML declaration is only allowed at the very start", at: start)
        }
        guard let end = find("?>", from: index + 2) else {
            throw error(.malformedXML, "unterminated processing instruction", at: start)
        }
        index = end + 2
    }

    private func forbiddenDeclaration() -> DecodeError {
        error(.forbiddenDTD, "DOCTYPE and entity declarations are not allowed (XXE protection)")
    }

    private mutating func countNode(at offset: Int) throws(DecodeError) {
        nodeCount += 1
        if nodeCount > limits.maxNodes {
            throw error(.tooManyNodes, "more than \(limits.maxNodes) XML nodes", at: offset)
        }
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
        return index > start
    }

    private func hasPrefix(_ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { prefix in
            guard index + prefix.count <= bytes.count else { return false }
            for offset in 0..<prefix.count where bytes[index + offset] != prefix[offset] { return false }
            return true
        }
    }

    private func find(_ needle: StaticString, from start: Int) -> Int? {
        needle.withUTF8Buffer { needle in
            guard let first = needle.first, needle.count <= bytes.count else { return nil }
            var position = start
            let last = bytes.count - needle.count
            outer: while position <= last {
                if bytes[position] != first {
                    position += 1
                    continue
                }
                for offset in 1..<needle.count where bytes[position + offset] != needle[offset] {
                    position += 1
                    continue outer
                }
                return position
            }
            return nil
        }
    }

    private func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex(byte))"
    }

    private func position(_ offset: Int) -> SourcePosition {
        SourcePosition.locate(offset: offset, in: bytes)
    }

    private func error(_ code: DecodeError.Code, _ message: String, at offset: Int? = nil) -> DecodeError {
        DecodeError(code, message, at: position(offset ?? index))
    }
}

// MARK: - Character classes

@inline(__always) private func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
}

@inline(__always) private func isNameStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte >= 0x80
}

@inline(__always) private func isNameChar(_ byte: UInt8) -> Bool {
    isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        || byte == UInt8(ascii: ".")
}

private func isXMLChar(_ value: UInt32) -> Bool {
    switch value {
    case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
    default: return false
    }
}

private func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: return UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: return UInt32(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return byte < 0x10 ? "0" + digits : digits
}

/// Collects character data; stays a slice of the input until an entity,
/// CDATA section or line-end normalisation forces a copy.
private struct TextAccumulator {
    private var range: Range<Int>? = nil
    private var buffer: [UInt8]? = nil

    mutating func appendRun(_ run: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>, normaliseLineEnds: Bool) {
        if !normaliseLineEnds, buffer == nil, range == nil {
            range = run
            return
        }
        materialise(bytes)
        if normaliseLineEnds {
            var previousWasCR = false
            for byte in bytes[run] {
                if byte == UInt8(ascii: "\r") {
                    buffer!.append(UInt8(ascii: "\n"))
                    previousWasCR = true
                } else {
                    if !(byte == UInt8(ascii: "\n") && previousWasCR) { buffer!.append(byte) }
                    previousWasCR = false
                }
            }
        } else {
            buffer!.append(contentsOf: bytes[run])
        }
    }

    mutating func appendCDATA(_ run: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) {
        materialise(bytes)
        buffer!.append(contentsOf: bytes[run])
    }

    mutating func appendDecoded(_ decoded: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) {
        materialise(bytes)
        buffer!.append(contentsOf: decoded)
    }

    private mutating func materialise(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard buffer == nil else { return }
        buffer = []
        if let range { buffer!.append(contentsOf: bytes[range]) }
        range = nil
    }

    /// Whether ``Canonicalizer/scalar(_:)`` would drop the text, asked before it becomes a String.
    func isBlank(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if let buffer { return Canonicalizer.isBlank(buffer) }
        if let range { return Canonicalizer.isBlank(bytes[range]) }
        return true
    }

    func string(in bytes: UnsafeBufferPointer<UInt8>) -> String {
        if let buffer { return String(decoding: buffer, as: UTF8.self) }
        if let range { return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        return ""
    }
}
