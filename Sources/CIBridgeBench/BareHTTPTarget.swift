import ArgumentParser
import CIBridgeConfiguration
import Hummingbird
import Logging
import NIOCore

/// The ceiling `scripts/bench` compares cibridge against: a Hummingbird server on
/// the same HTTP/1 stack that reads each POST body and answers 200 with a small
/// JSON body, and does nothing else (no decoding, no outbox, no sinks).
struct BareHTTPTarget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-http",
        abstract: "Serve POST /callbacks with a bare 200 (the reference endpoint of scripts/bench); stops on SIGTERM/SIGINT."
    )

    @Option(help: "Listen address, host:port.")
    var listen = "127.0.0.1:8090"

    func run() async throws {
        let address = try HostPort(parsing: listen, key: "--listen")
        var logger = Logger(label: "bare-http")
        logger.logLevel = .warning
        let router = Router()
        let answer = ByteBuffer(string: #"{"accepted":1}"#)
        router.post("callbacks") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: answer))
        }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "bare"),
            logger: logger)
        try await app.runService()
    }
}
