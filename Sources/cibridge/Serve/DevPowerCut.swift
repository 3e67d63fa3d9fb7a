import CIBridgeOutbox
import CIBridgePowerCut
import Dispatch
import Foundation

/// `serve --dev-power-cut-seed N` (hidden; `scripts/chaos` with `KILL=power`):
/// the outbox's files go through ``PowerCutFileSystem``, and SIGUSR2 cuts
/// the power a random 1–40 disk calls later, so that the cut lands inside
/// whatever the outbox is doing (between a write and its sync, a rename and
/// its directory's sync…): the files become what a disk could hold after a
/// power cut (unsynced data dropped or torn, unsynced directory entries
/// undone), and the process ends at once with status 137, as if the machine
/// had stopped. An idle outbox makes no calls: after 2 s the cut comes anyway.
///
/// A test hook, never for production: it keeps a copy of every unsynced
/// change in memory and makes no real `fsync`.
final class DevPowerCut {
    let layer: PowerCutFileSystem
    /// Delivers SIGUSR2 while this object lives: keep it for the life of `serve`.
    private let source: any DispatchSourceSignal

    /// The layer for the outbox in `directory`, with SIGUSR2 armed.
    init(directory: String, seed: UInt64) throws {
        let layer = try PowerCutFileSystem(root: directory, backups: directory + ".powercut", seed: seed)
        signal(SIGUSR2, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: .global())
        let end: @Sendable (CutReport) -> Void = { cut in
            FileHandle.standardError.write(Data("power cut (seed \(seed)): \(cut.summary), before \(cut.landedBefore ?? "no call")\n".utf8))
            _exit(137)
        }
        source.setEventHandler {
            var random = SystemRandomNumberGenerator()
            layer.armCut(afterCalls: Int.random(in: 1...40, using: &random), then: end)
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { end(layer.cutPower()) }
        }
        source.resume()
        self.layer = layer
    }
}
