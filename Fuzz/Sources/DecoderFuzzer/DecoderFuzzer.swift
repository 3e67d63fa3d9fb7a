import CIBridgeCore
import Foundation

/// libFuzzer's entry point: one input, as a callback body of each kind the
/// HTTP edge accepts (sniffed, declared XML, declared JSON).
///
/// Beyond "does not crash, hang or blow up memory" (libFuzzer and
/// AddressSanitizer watch those), it checks what must hold for every input:
/// decoding is deterministic, a refusal has a reason and a position inside the
/// body, and every envelope of an accepted body is valid JSON (read back with
/// Foundation's parser, a second opinion) carrying its id.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: count))
    let decoder = CallbackDecoder()
    let builder = EnvelopeBuilder()
    for contentType in [nil, "application/xml", "application/json"] as [String?] {
        let first: Result<CallbackBody, DecodeError> = Result { () throws(DecodeError) in try decoder.decode(body, contentType: contentType) }
        let second: Result<CallbackBody, DecodeError> = Result { () throws(DecodeError) in try decoder.decode(body, contentType: contentType) }
        switch (first, second) {
        case (.failure(let a), .failure(let b)):
            precondition(a.code == b.code && a.description == b.description, "refusal differs between two decodes")
            precondition(!a.message.isEmpty && !a.message.contains("\n"), "a refusal without a one-line reason")
            if let position = a.position {
                precondition(position.offset >= 0 && position.offset <= count && position.line >= 1 && position.column >= 1,
                             "position outside the body")
            }
        case (.success(let a), .success(let b)):
            let envelopes = builder.envelopes(for: a)
            let again = builder.envelopes(for: b)
            precondition(envelopes.map { $0.jsonBytes() } == again.map { $0.jsonBytes() }, "envelopes differ between two decodes")
            for envelope in envelopes {
                let json = envelope.jsonBytes()
                precondition(envelope.id.utf8.count == 32, "envelope id is not 32 hex digits")
                // Whatever came in, what goes out is JSON with that id.
                let parsed = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
                precondition(parsed?["id"] as? String == envelope.id, "envelope is not JSON: \(String(decoding: json, as: UTF8.self))")
            }
        default:
            preconditionFailure("one decode failed and the other did not")
        }
    }
    return 0
}
