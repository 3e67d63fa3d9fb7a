/// A place in a body: 1-based line and column (in Unicode scalars), and the byte offset.
public struct SourcePosition: Hashable, Sendable {
    public let line: Int
    public let column: Int
    public let offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// Computes the line and column of byte `offset` in `bytes`.
    ///
    /// Only called on the error path, so it rescans the prefix rather than
    /// having the parsers track lines on every byte.
    public static func locate(offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourcePosition {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var column = 1
        var index = 0
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count scalars, not bytes: continuation bytes do not start a column.
                column += 1
            }
            index += 1
        }
        return SourcePosition(line: line, column: column, offset: end)
    }
}
