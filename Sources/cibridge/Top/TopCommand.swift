import ArgumentParser
import CIBridgeTop
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `cibridge top`: a running bridge's intake, outbox and sinks, refreshed
/// every second, from its `/metrics`. On a terminal it redraws in place;
/// otherwise (a pipe, a log) it prints plain frames one after another.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of a running bridge: intake, latency, outbox, and per sink its backlog draining.",
        discussion: """
            Reads the bridge's /metrics (the http.listen address). Ctrl-C quits. \
            Rates and latency cover the last interval; backlog history is one block per refresh.
            """
    )

    @Option(help: "The bridge's metrics: http://HOST:PORT/metrics (its http.listen address); https:// with http.tls.")
    var url = "http://127.0.0.1:8080/metrics"

    @Option(help: "PEM CA certificates to check an https:// bridge's certificate with (default: the system's).")
    var cacert: String?

    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1

    @Flag(help: "Print one frame (read twice, one interval apart, for the rates) and exit; 1 if the bridge cannot be read.")
    var once = false

    @Flag(help: "No colour and no redrawing, even on a terminal.")
    var plain = false

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
    }

    func run() async throws {
        // Reading a CA file is blocking: on NIO's thread pool, not the cooperative one.
        let (url, cacert, timeout) = (url, cacert, TimeAmount.milliseconds(Int64(max(1000, interval * 1000))))
        let made = try await NIOThreadPool.singleton.runIfActive {
            Result { () throws(TopError) in try MetricsFetcher(url: url, caFile: cacert, timeout: timeout) }
        }
        let fetcher: MetricsFetcher
        switch made {
        case .success(let made): fetcher = made
        case .failure(let error):
            FileHandle.standardError.write(Data("cibridge top: \(error.message)\n".utf8))
            throw ExitCode(64)
        }
        let terminal = !plain && isatty(STDOUT_FILENO) == 1
        let renderer = TopRenderer(style: terminal ? .terminal : .plain)
        var model = TopModel(source: fetcher.description)
        let start = ContinuousClock.now
        func now() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        /// The next frame, from a new reading.
        func read() async throws(TopError) -> TopView {
            model.update(try MetricsScrape(text: try await fetcher.fetch(), time: now()))
        }

        if once {
            do {
                _ = try await read()  // the first reading, for the rates
                try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                print(renderer.render(try await read(), clock: Self.clock()), terminator: "")
            } catch {
                FileHandle.standardError.write(Data("cibridge top: \(fetcher.description): \(error.message)\n".utf8))
                throw ExitCode(1)
            }
            return
        }

        Interruption.install()
        if terminal { write("\u{1B}[?1049h\u{1B}[?25l") }  // the alternate screen, cursor hidden
        defer { if terminal { write("\u{1B}[?25h\u{1B}[?1049l") } }
        while !Interruption.requested {
            let view: TopView
            do {
                view = try await read()
            } catch {
                view = model.failed(error)
            }
            let frame = renderer.render(view, clock: Self.clock())
            if terminal {
                write("\u{1B}[H\u{1B}[J" + frame)
            } else {
                write(frame + "\n")
            }
            let next = ContinuousClock.now + .milliseconds(Int64(interval * 1000))
            while !Interruption.requested, ContinuousClock.now < next {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
