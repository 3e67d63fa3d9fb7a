// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "cibridge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cibridge", targets: ["cibridge"]),
        .executable(name: "cibridge-bench", targets: ["CIBridgeBench"]),
        .library(name: "CIBridgeCore", targets: ["CIBridgeCore"]),
        .library(name: "CIBridgeOutbox", targets: ["CIBridgeOutbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // Only the OTLP/HTTP exporter: the gRPC one would bring grpc-swift for nothing.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // C libraries from the system (Debian: librdkafka-dev, libhiredis-dev).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),

        // Pure Swift: callback model, decoding, canonical form, envelope. No I/O.
        .target(
            name: "CIBridgeCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),

        // The disk-backed outbox: segments, cursors, recovery, delivery state.
        .target(
            name: "CIBridgeOutbox",
            dependencies: [
                "CCRC32C", .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // CRC-32C with the CPU's instruction (SSE 4.2); the outbox falls back to tables.
        .target(name: "CCRC32C"),
        // A fault-injecting file system for the outbox that models power cuts,
        // and the model-based run over it (tests, `cibridge-bench powercut`, `serve --dev-power-cut-seed`).
        .target(
            name: "CIBridgePowerCut",
            dependencies: ["CIBridgeOutbox", .product(name: "Logging", package: "swift-log")]
        ),

        // What every sink shares: the Sink protocol, its service, and the mapping
        // between envelopes and outbox records (attributes stored, read back).
        .target(
            name: "CIBridgeSinks",
            dependencies: [
                "CIBridgeCore", "CIBridgeOutbox",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),

        // Adapters: each is the only importer of its C library.
        .target(
            name: "CIBridgeKafka",
            dependencies: [
                "CRdKafka", "CIBridgeCore", "CIBridgeOutbox", "CIBridgeSinks", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CIBridgeRedis",
            dependencies: [
                "CHiredis", "CIBridgeCore", "CIBridgeOutbox", "CIBridgeSinks", .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Configuration: YAML file, CIBRIDGE_* variables and flags into one checked value.
        .target(
            name: "CIBridgeConfiguration",
            dependencies: [
                "CIBridgeCore", "CIBridgeOutbox", "CIBridgeSinks", "CIBridgeKafka", "CIBridgeRedis",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The HTTP edge: routes, token, allowlist, limits, quarantine; HTTP statuses live only here.
        .target(
            name: "CIBridgeHTTP",
            dependencies: [
                "CIBridgeCore", "CIBridgeOutbox", "CIBridgeSinks", "CIBridgeConfiguration",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),

        // `cibridge top`: Prometheus text read into frames (model and drawing), no I/O.
        .target(name: "CIBridgeTop"),
        .executableTarget(
            name: "cibridge",
            dependencies: [
                "CIBridgeCore",
                "CIBridgeTop",
                "CIBridgeOutbox",
                "CIBridgeSinks",
                "CIBridgeKafka",
                "CIBridgeRedis",
                "CIBridgeConfiguration",
                "CIBridgeHTTP",
                "CIBridgePowerCut",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        .executableTarget(
            name: "CIBridgeBench",
            dependencies: [
                "CIBridgeConfiguration",
                "CIBridgeCore",
                "CIBridgeOutbox",
                "CIBridgeSinks",
                "CIBridgeKafka",
                "CIBridgeRedis",
                "CIBridgePowerCut",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Helpers shared by the test targets: seeded random numbers, temporary directories,
        // child processes, what the machine can do (for skips), fixtures, a Redis server.
        .target(name: "CIBridgeTestSupport", dependencies: ["CIBridgeCore", "CIBridgeOutbox", "CIBridgeSinks", "CIBridgePowerCut"], path: "Tests/Support"),
        .testTarget(name: "CIBridgeSinksTests", dependencies: ["CIBridgeSinks", "CIBridgeCore", "CIBridgeOutbox", "CIBridgeTestSupport"]),
        .testTarget(
            name: "CIBridgeCoreTests",
            dependencies: ["CIBridgeCore", "CIBridgeTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "CIBridgeConfigurationTests", dependencies: ["CIBridgeConfiguration"]),
        .testTarget(name: "CIBridgeTopTests", dependencies: ["CIBridgeTop"]),
        .testTarget(
            name: "CIBridgeHTTPTests",
            dependencies: [
                "CIBridgeHTTP", "CIBridgeConfiguration", "CIBridgeOutbox", "CIBridgeTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(name: "CIBridgeOutboxTests", dependencies: ["CIBridgeOutbox", "CIBridgeBench", "CIBridgeTestSupport", "CIBridgePowerCut"]),
        .testTarget(
            name: "CIBridgeKafkaTests",
            dependencies: [
                "CIBridgeKafka", "CIBridgeCore", "CIBridgeOutbox", "CIBridgeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CIBridgeRedisTests",
            dependencies: [
                "CIBridgeRedis", "CIBridgeCore", "CIBridgeOutbox", "CIBridgeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "cibridgeTests",
            dependencies: [
                "cibridge", "CIBridgeCore", "CIBridgeOutbox", "CIBridgeRedis", "CIBridgeKafka", "CIBridgeTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
