// Is ThreadSanitizer able to see Synchronization.Mutex on this toolchain?
// Every access below is inside `withLock`, so a correct tool reports nothing.
// scripts/sanitize thread builds and runs this first: if it reports races,
// reports whose both stacks are inside `withLock` closures are the tool's, not ours.
import Dispatch
import Synchronization

struct Pending {
    var bytes: [UInt8] = []
    var count = 0
}

struct State {
    var pending = Pending()
    var total = 0
    var flushScheduled = false
}

final class Box: Sendable {
    let state = Mutex(State())
}

let box = Box()
let io = DispatchQueue(label: "io")
let group = DispatchGroup()
for writer in 0..<64 {
    DispatchQueue.global().async(group: group) {
        for n in 0..<200 {
            let schedule = box.state.withLock { s -> Bool in
                s.pending.bytes.append(UInt8(truncatingIfNeeded: writer &+ n))
                s.pending.count += 1
                if s.flushScheduled { return false }
                s.flushScheduled = true
                return true
            }
            if schedule {
                io.async {
                    box.state.withLock { s in
                        s.flushScheduled = false
                        s.total += s.pending.count
                        s.pending = Pending()
                    }
                }
            }
        }
    }
}
group.wait()
io.sync {}
print(box.state.withLock { $0.total + $0.pending.count })
