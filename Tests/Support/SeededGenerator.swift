import CIBridgePowerCut

/// The seeded generator the power-cut layer uses, for every test.
public typealias SeededGenerator = CIBridgePowerCut.SeededGenerator
