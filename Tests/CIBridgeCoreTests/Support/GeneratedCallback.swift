import CIBridgeTestSupport

/// A randomly generated callback, and its renderings as Tencent's XML and as
/// Tencent's JSON, for the XML/JSON equivalence property.
struct GeneratedCallback {
    indirect enum Node {
        case leaf(String)
        /// Fields with unique names; each has one or more values (more = repeated).
        case object([(name: String, values: [Node])])
    }

    let root: Node

    static let names = [
        "JobId", "Tag", "State", "Code", "Message", "Input", "Object", "Output", "Operation", "Bucket", "Region",
        "ObjectName", "CosHeaders", "Key", "Value", "Stream", "Audio", "Video", "Subtitle", "Md5Info", "OutputFile",
        "MediaResult", "Layer", "Frames", "Width", "Height", "UserData", "名称", "Ünïcode", "x-y.z", "_under",
    ]
    static let leaves = [
        "Success", "Failed", "0", "5", "320", "1424687", "-1", "1.5", "12.04", "0.35", "true", "false",
        "input/demo.mp4", "/相册/海边 & 日落 ${number}.jpg", "a<b>c", "\"quoted\" 'single'", " padded ",
        "tab\there", "line\nbreak", "emoji 🎬", "ends with ]]>", "", "   ",
    ]

    static func random(using rng: inout SeededGenerator) -> GeneratedCallback {
        var jobs: [Node] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            var fields: [(name: String, values: [Node])] = [
                ("JobId", [.leaf("j" + String(rng.next() % 1_000_000))]),
                ("Tag", [.leaf(["SmartCover", "Transcode", "Hologram"].randomElement(using: &rng)!)]),
                ("State", [.leaf(["Success", "Failed"].randomElement(using: &rng)!)]),
                ("Operation", [randomObject(depth: 1, using: &rng)]),
            ]
            if Bool.random(using: &rng) {
                fields.append(("Workflow", [.object([("WorkflowId", [.leaf("w" + String(rng.next() % 1000))]), ("RunId", [.leaf("r1")])])]))
            }
            jobs.append(.object(fields))
        }
        return GeneratedCallback(root: .object([("EventName", [.leaf("TaskFinish")]), ("JobsDetail", jobs)]))
    }

    private static func randomObject(depth: Int, using rng: inout SeededGenerator) -> Node {
        var fields: [(name: String, values: [Node])] = []
        for name in names.shuffled(using: &rng).prefix(Int.random(in: 0...5, using: &rng)) {
            let count = Int.random(in: 0..<10, using: &rng) < 7 ? 1 : Int.random(in: 2...3, using: &rng)
            var values: [Node] = []
            for _ in 0..<count {
                if depth < 4 && Int.random(in: 0..<3, using: &rng) == 0 {
                    values.append(randomObject(depth: depth + 1, using: &rng))
                } else {
                    values.append(.leaf(leaves.randomElement(using: &rng)!))
                }
            }
            fields.append((name, values))
        }
        return .object(fields)
    }

    // MARK: - XML, as Tencent writes it

    func xml(using rng: inout SeededGenerator) -> String {
        var out = Bool.random(using: &rng) ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        out += "<Response>"
        Self.xmlContent(root, into: &out, using: &rng)
        out += "</Response>\n"
        return out
    }

    private static func xmlContent(_ node: Node, into out: inout String, using rng: inout SeededGenerator) {
        switch node {
        case .leaf(let text):
            out += xmlEscaped(text, using: &rng)
        case .object(let fields):
            // Interleave occurrences randomly, keeping each name's values in order.
            var occurrences = fields.flatMap { field in field.values.indices.map { _ in field.name } }
            occurrences.shuffle(using: &rng)
            var next: [String: Int] = [:]
            for name in occurrences {
                let field = fields.first { $0.name == name }!
                let value = field.values[next[name, default: 0]]
                next[name, default: 0] += 1
                if Bool.random(using: &rng) { out += "\n" }
                if case .leaf(let text) = value, text.isEmpty, Bool.random(using: &rng) {
                    out += "<\(name)/>"
                    continue
                }
                out += "<\(name)>"
                xmlContent(value, into: &out, using: &rng)
                out += "</\(name)>"
                if Int.random(in: 0..<8, using: &rng) == 0 { out += "<!-- note -->" }
            }
            if Bool.random(using: &rng) { out += "\n" }
        }
    }

    private static func xmlEscaped(_ text: String, using rng: inout SeededGenerator) -> String {
        if !text.contains("]]>"), !text.isEmpty, Int.random(in: 0..<4, using: &rng) == 0 {
            return "<![CDATA[" + text + "]]>"
        }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += Bool.random(using: &rng) ? "&gt;" : ">"
            case "\"": out += Bool.random(using: &rng) ? "&quot;" : "\""
            case "'": out += "&apos;"
            default:
                if scalar.value > 0x7F && Int.random(in: 0..<4, using: &rng) == 0 {
                    out += "&#x" + String(scalar.value, radix: 16) + ";"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    // MARK: - JSON, as Tencent writes it

    func json(using rng: inout SeededGenerator) -> String {
        var out = ""
        Self.jsonValue(root, into: &out, using: &rng)
        return out
    }

    private static func jsonValue(_ node: Node, into out: inout String, using rng: inout SeededGenerator) {
        switch node {
        case .leaf(let text):
            if isJSONNumber(text) && Bool.random(using: &rng) {
                out += text
            } else if (text == "true" || text == "false") && Bool.random(using: &rng) {
                out += text
            } else if text.isEmpty && Bool.random(using: &rng) {
                out += "null"
            } else {
                out += jsonString(text, using: &rng)
            }
        case .object(let fields):
            out += "{"
            var first = true
            for field in fields.shuffled(using: &rng) {
                // Tencent omits empty elements; sometimes it writes them anyway.
                let values = field.values.filter { !(isEmptyLeaf($0) && Bool.random(using: &rng)) }
                if values.isEmpty { continue }
                if !first { out += "," }
                first = false
                out += jsonString(field.name, using: &rng) + ":"
                // The singleton rule: an array only for two or more, but
                // sometimes a one-element array (as case 3's JobsDetail).
                if values.count == 1 && Int.random(in: 0..<4, using: &rng) != 0 {
                    jsonValue(values[0], into: &out, using: &rng)
                } else {
                    out += "["
                    for (index, value) in values.enumerated() {
                        if index > 0 { out += ", " }
                        jsonValue(value, into: &out, using: &rng)
                    }
                    out += "]"
                }
            }
            out += "}"
        }
    }

    private static func isEmptyLeaf(_ node: Node) -> Bool {
        if case .leaf(let text) = node { return text.allSatisfy { $0 == " " } }
        return false
    }

    private static func isJSONNumber(_ text: String) -> Bool {
        ["0", "5", "320", "1424687", "-1", "1.5", "12.04", "0.35"].contains(text)
    }

    private static func jsonString(_ text: String, using rng: inout SeededGenerator) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "/": out += Bool.random(using: &rng) ? "\\/" : "/"
            default:
                if scalar.value > 0x7F && Int.random(in: 0..<3, using: &rng) == 0 {
                    for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
