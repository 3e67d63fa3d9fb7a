import CIBridgeCore
import Foundation

/// The test fixtures under Tests/CIBridgeCoreTests/Fixtures, found from this
/// source file so the tests run from any working directory.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // CIBridgeCoreTests
        .appendingPathComponent("Fixtures")

    /// The bytes of `path`, relative to the fixtures directory.
    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(path)))
    }

    /// Every fixture file below `folder`, as paths relative to the fixtures directory.
    static func files(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(folder).path)) ?? []
        return names.sorted().map { folder + "/" + $0 }
    }
}

/// Decodes `bytes` and returns the canonical envelope JSON, one line per envelope.
func envelopeLines(_ bytes: [UInt8], decoder: CallbackDecoder = CallbackDecoder()) throws -> [String] {
    let body = try decoder.decode(bytes)
    return EnvelopeBuilder().envelopes(for: body).map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
}

/// Decodes `bytes` into envelopes.
func envelopes(_ bytes: [UInt8]) throws -> [Envelope] {
    EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode(bytes))
}

/// The error `body` fails with, or `nil` when it decodes.
func decodeError(_ bytes: [UInt8], limits: DecoderLimits = .standard, contentType: String? = nil) -> DecodeError? {
    do {
        _ = try CallbackDecoder(limits: limits).decode(bytes, contentType: contentType)
        return nil
    } catch {
        return error
    }
}
