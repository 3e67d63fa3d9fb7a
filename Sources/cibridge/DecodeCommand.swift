import ArgumentParser
import CIBridgeCore

#if canImport(Glibc)
import Glibc
#endif

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode callback bodies (XML or JSON) into CloudEvents envelopes, one JSON line each.",
        discussion: """
            Reads each FILE, or standard input when none is given (or FILE is -), and prints \
            the canonical envelopes as JSON Lines on standard output. A test ping prints \
            nothing and says so on standard error.

            Exit status: 0 when every input decoded, 65 when any input is not a valid \
            callback (one line on standard error: FILE:LINE:COLUMN: reason), 66 when a \
            file cannot be read.
            """
    )

    @Flag(help: "Indent the envelopes (not canonical; for reading).")
    var pretty = false

    @Option(name: .customLong("max-bytes"), help: "Largest body accepted, in bytes.")
    var maxBytes = DecoderLimits.standard.maxBodyBytes

    @Argument(help: "Callback bodies to decode (default: standard input).")
    var files: [String] = []

    func run() throws {
        var limits = DecoderLimits.standard
        limits.maxBodyBytes = maxBytes
        let decoder = CallbackDecoder(limits: limits)
        let builder = EnvelopeBuilder()
        let writer = CanonicalJSONWriter(pretty: true)
        var status: Int32 = 0

        for input in (files.isEmpty ? [nil] : files.map(Optional.some)).map(InputFile.init(path:)) {
            let bytes: [UInt8]
            do {
                bytes = try input.read(limit: maxBytes)
            } catch {
                switch error {
                case .tooLarge(let limit):
                    report("\(input.name): body is larger than \(limit) bytes")
                    status = max(status, 65)
                case .cannotOpen(let reason), .readFailed(let reason):
                    report("\(input.name): cannot read: \(reason)")
                    status = 66
                }
                continue
            }
            do {
                let body = try decoder.decode(bytes)
                if case .testPing(let message) = body {
                    report("\(input.name): test ping (\(message)); nothing to publish")
                    continue
                }
                var output: [UInt8] = []
                for envelope in builder.envelopes(for: body) {
                    output += pretty ? writer.bytes(of: envelope.canonicalValue) : envelope.jsonBytes()
                    output.append(UInt8(ascii: "\n"))
                }
                writeStandardOutput(output)
            } catch {
                if let position = error.position {
                    report("\(input.name):\(position.line):\(position.column): \(error.message)")
                } else {
                    report("\(input.name): \(error.message)")
                }
                status = max(status, 65)
            }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// One line on standard error.
func report(_ line: String) {
    writeAll(Array((line + "\n").utf8), to: STDERR_FILENO)
}

/// Writes bytes to standard output; whether all of them were written (a
/// closed pipe or a full disk fails: SIGPIPE is ignored where Redis is used).
@discardableResult
func writeStandardOutput(_ bytes: [UInt8]) -> Bool {
    writeAll(bytes, to: STDOUT_FILENO)
}

/// Writes every byte to `fd`, retrying short writes and interruptions; false on an error.
private func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
