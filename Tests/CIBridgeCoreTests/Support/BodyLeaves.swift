import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Every scalar value of a callback body or an envelope, with the names on its
/// path, read by Foundation's own JSON and XML parsers: an oracle independent
/// of cibridge's decoder, for the lossless property.
struct Leaf: Hashable, CustomStringConvertible {
    /// Member and element names from the root, array positions left out.
    var path: [String]
    /// The text as sent; JSON numbers and booleans as Foundation reads them.
    var value: Value

    enum Value: Hashable {
        case text(String)
        case number(Double)
        case boolean(Bool)
    }

    var description: String { "\(path.joined(separator: "/")) = \(value)" }

    /// Whether the envelope's string `text` carries this value: the same text;
    /// for a JSON number the literal of the same number; for a boolean
    /// `true` or `false` (docs/envelope.md, canonical form rule 1).
    func matches(_ text: String) -> Bool {
        switch value {
        case .text(let expected): return text == expected
        case .boolean(let flag): return text == (flag ? "true" : "false")
        case .number(let number):
            if let parsed = Double(text) { return parsed == number }
            return (text == "true" && number == 1) || (text == "false" && number == 0)
        }
    }
}

enum BodyLeaves {
    /// The non-empty leaves of a JSON or XML body (the first significant byte decides).
    static func of(_ bytes: [UInt8]) throws -> [Leaf] {
        let text = String(decoding: bytes, as: UTF8.self).drop { $0 == "\u{FEFF}" || $0.isWhitespace }
        if text.first == "<" { return try xml(bytes) }
        return json(try JSONSerialization.jsonObject(with: Data(bytes)), path: [])
    }

    /// The leaves of a parsed JSON value. `null`, empty and blank strings are
    /// not values (docs/envelope.md, canonical form rule 2).
    static func json(_ value: Any, path: [String]) -> [Leaf] {
        switch value {
        case let object as [String: Any]:
            return object.flatMap { json($0.value, path: path + [$0.key]) }
        case let array as [Any]:
            return array.flatMap { json($0, path: path) }
        case let string as String:
            return string.allSatisfy(\.isWhitespace) ? [] : [Leaf(path: path, value: .text(string))]
        case let flag as Bool where type(of: value) == Bool.self:
            return [Leaf(path: path, value: .boolean(flag))]
        case let number as NSNumber:
            // Foundation may read `true` as the NSNumber 1: ``Leaf/matches(_:)`` allows for it.
            return [Leaf(path: path, value: .number(number.doubleValue))]
        default:
            return []
        }
    }

    /// The leaves of an XML document: the text of every element without
    /// child elements, and attributes as `@name`. The root element's name is
    /// not part of the path (it is always `Response`).
    static func xml(_ bytes: [UInt8]) throws -> [Leaf] {
        let collector = XMLLeafCollector()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = collector
        guard parser.parse() else {
            throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "\(parser.parserError.map { "\($0)" } ?? "XML")"])
        }
        return collector.leaves
    }
}

private final class XMLLeafCollector: NSObject, XMLParserDelegate {
    var leaves: [Leaf] = []
    private var path: [String] = []
    /// Per open element: its text so far and whether it has child elements.
    private var open: [(text: String, hasChildren: Bool)] = []

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if !open.isEmpty { open[open.count - 1].hasChildren = true }
        if !open.isEmpty { path.append(name) }
        open.append(("", false))
        for (key, value) in attributes where !key.hasPrefix("xmlns") && !value.allSatisfy(\.isWhitespace) {
            leaves.append(Leaf(path: path + ["@" + key], value: .text(value)))
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !open.isEmpty { open[open.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        if !open.isEmpty { open[open.count - 1].text += String(decoding: block, as: UTF8.self) }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let element = open.removeLast()
        if !element.hasChildren, !element.text.allSatisfy(\.isWhitespace) {
            leaves.append(Leaf(path: path, value: .text(element.text)))
        }
        if !open.isEmpty { path.removeLast() }
    }
}
