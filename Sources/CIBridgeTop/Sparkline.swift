/// A row of block characters, one per value, scaled to the largest. Zero is
/// always the lowest block and anything above zero at least the second, so a
/// backlog of one is never drawn as empty.
public enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    public static func render(_ values: [Double]) -> String {
        let highest = values.max() ?? 0
        guard highest > 0 else { return String(repeating: blocks[0], count: values.count) }
        return String(values.map { value -> Character in
            guard value > 0 else { return blocks[0] }
            let level = 1 + Int((value / highest * Double(blocks.count - 2)).rounded())
            return blocks[min(level, blocks.count - 1)]
        })
    }
}
