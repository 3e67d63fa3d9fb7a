/// A Redis reply, copied out of hiredis's reply object.
public indirect enum RedisReply: Sendable, Hashable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisReply])
    case null

    /// The text of a status or bulk reply.
    public var text: String? {
        switch self {
        case .status(let text): return text
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}
