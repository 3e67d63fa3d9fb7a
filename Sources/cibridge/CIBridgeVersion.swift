/// The cibridge release this binary was built from.
enum CIBridgeVersion {
    static let current = "0.1.0"
}
