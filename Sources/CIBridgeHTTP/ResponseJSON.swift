import CIBridgeCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The JSON bodies cibridge answers with: strings, integers, arrays and objects,
/// written with sorted keys straight into bytes.
///
/// Written by hand because `JSONSerialization` over `[String: Any]` cost about a
/// tenth of the CPU of an accepted callback (dynamic casts, bridging, copies).
enum ResponseJSON: Sendable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case string(String)
    case integer(Int)
    case array([ResponseJSON])
    case object([String: ResponseJSON])

    init(stringLiteral value: String) { self = .string(value) }
    init(stringInterpolation: DefaultStringInterpolation) { self = .string(String(stringInterpolation: stringInterpolation)) }
    init(integerLiteral value: Int) { self = .integer(value) }
    init(arrayLiteral elements: ResponseJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, ResponseJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// A response body: the compact JSON text of `fields`, then a newline.
    static func body(_ fields: [String: ResponseJSON]) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        ResponseJSON.object(fields).write(into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    /// An `application/json` answer with `fields` as its body.
    static func response(status: HTTPResponse.Status, _ fields: [String: ResponseJSON]) -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body(fields)))
    }

    /// `Content-Type: application/json`, made once.
    static let headers: HTTPFields = [.contentType: "application/json"]

    /// Appends the compact JSON text of this value.
    func write(into output: inout [UInt8]) {
        switch self {
        case .string(let text):
            CanonicalJSONWriter.writeString(text, into: &output)
        case .integer(let number):
            output.append(contentsOf: String(number).utf8)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                CanonicalJSONWriter.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }
}
