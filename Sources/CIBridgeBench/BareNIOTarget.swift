import ArgumentParser
import CIBridgeConfiguration
import NIOCore
import NIOHTTP1
import NIOPosix

/// The bare endpoint without Hummingbird: a SwiftNIO channel handler that
/// collects each `POST /callbacks` body and answers 200 on the event loop.
///
/// `scripts/bench` runs it next to the bare Hummingbird endpoint, so every
/// run shows what Hummingbird's async layer (a Swift task per connection,
/// `NIOAsyncChannel`'s streams, the hop to the cooperative pool and back)
/// costs per request on that machine: the part of cibridge's cost that no
/// change behind the HTTP edge can remove.
struct BareNIOTarget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-nio",
        abstract:
            "Serve POST /callbacks with a bare 200 from a SwiftNIO channel handler, without Hummingbird (scripts/bench's second reference); stops on SIGTERM/SIGINT."
    )

    @Option(help: "Listen address, host:port.")
    var listen = "127.0.0.1:8091"

    func run() async throws {
        let address = try HostPort(parsing: listen, key: "--listen")
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BareNIOHandler())
                }
            }
            .bind(host: address.host, port: address.port).get()
        try await channel.closeFuture.get()
    }
}

/// Collects a request's body, as the Hummingbird endpoint does, then writes
/// 200 with the same JSON for `POST /callbacks` and 404 for anything else.
private final class BareNIOHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let answer = ByteBuffer(string: #"{"accepted":1}"#)
    private var body = ByteBuffer()
    private var found = false
    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            found = head.method == .POST && (head.uri == "/callbacks" || head.uri.hasPrefix("/callbacks/"))
            keepAlive = head.isKeepAlive
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: found ? "\(Self.answer.readableBytes)" : "0")
            if found { headers.add(name: "content-type", value: "application/json") }
            if !keepAlive { headers.add(name: "connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if found { context.write(wrapOutboundOut(.body(.byteBuffer(Self.answer))), promise: nil) }
            let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
