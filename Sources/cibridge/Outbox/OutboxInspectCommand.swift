import ArgumentParser
import CIBridgeOutbox
import Foundation

struct OutboxInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print records as JSON Lines: sequence, append time, key, routing and the envelope."
    )

    @OptionGroup var outbox: OutboxDirectoryOption
    @Option(help: "First sequence (default: the oldest kept).") var from: UInt64?
    @Option(help: "At most this many records.") var limit = 100

    func run() throws {
        let inspector = try OutboxInspector(directory: outbox.directory)
        var output: [UInt8] = []
        for record in try inspector.records(from: from, limit: limit) {
            output += recordJSON(record)
            output.append(UInt8(ascii: "\n"))
        }
        writeStandardOutput(output)
    }
}

/// A record as one JSON object; the payload is embedded as JSON when it is JSON.
func recordJSON(_ record: OutboxRecord, extra: [(String, String)] = []) -> [UInt8] {
    var fields: [(String, String)] = [
        ("sequence", String(record.sequence)),
        ("appendTime", jsonString(formatMilliseconds(record.appendTime))),
        ("key", jsonString(record.key)),
        ("routing", "[" + record.routing.map(jsonString).joined(separator: ",") + "]"),
    ]
    for (name, value) in extra { fields.append((name, jsonString(value))) }
    let isJSON = (try? JSONSerialization.jsonObject(with: Data(record.payload))) != nil
    if isJSON {
        fields.append(("payload", String(decoding: record.payload, as: UTF8.self)))
    } else {
        fields.append(("payloadBase64", jsonString(Data(record.payload).base64EncodedString())))
    }
    return Array(("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}").utf8)
}

func jsonString(_ text: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}

/// RFC 3339 in UTC with milliseconds.
func formatMilliseconds(_ milliseconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
