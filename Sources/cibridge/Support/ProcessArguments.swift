import Foundation

/// The command line, without the program name.
///
/// Swift reads its arguments once at start-up; under some `LD_PRELOAD` shims
/// (libfaketime, which the clock-jump fault test uses) that reading comes back
/// empty. Linux keeps them in `/proc/self/cmdline` too, so read them from there then.
enum ProcessArguments {
    static var current: [String] {
        if !CommandLine.arguments.isEmpty { return Array(CommandLine.arguments.dropFirst()) }
        guard let data = FileManager.default.contents(atPath: "/proc/self/cmdline") else { return [] }
        let parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        // NUL-terminated: the last element is empty.
        return Array(parts.dropFirst().dropLast(parts.last == "" ? 1 : 0))
    }
}
