// swift-tools-version:6.1
// libFuzzer target for cibridge's decoder. A package of its own because it only
// links when built with `-sanitize=fuzzer` (its `main` hands over to libFuzzer's
// driver), which the main package's normal build must not need.
// Run it with scripts/fuzz.
import PackageDescription

let package = Package(
    name: "cibridge-fuzz",
    dependencies: [.package(name: "cibridge", path: "..")],
    targets: [
        .executableTarget(
            name: "DecoderFuzzer",
            dependencies: [.product(name: "CIBridgeCore", package: "cibridge")]
        )
    ]
)
