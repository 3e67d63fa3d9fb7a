import CIBridgeRedis

/// One entry of a stream, as `XREAD`, `XREADGROUP` and `XAUTOCLAIM` return it.
struct RedisStreamEntry {
    let stream: String
    let id: String
    /// The `envelope` field; `nil` for an entry without one (or deleted, in a claim).
    let envelope: [UInt8]?
    /// The W3C `traceparent` and `tracestate` fields, when present and not empty.
    var traceparent: String?
    var tracestate: String?

    /// The entries of an `XREAD`/`XREADGROUP` reply: `[[stream, [[id, fields]…]]…]`.
    static func fromRead(_ reply: RedisReply) -> [RedisStreamEntry] {
        guard case .array(let perStream) = reply else { return [] }
        var entries: [RedisStreamEntry] = []
        for streamReply in perStream {
            guard case .array(let pair) = streamReply, pair.count == 2, let stream = pair[0].text else { continue }
            entries += list(pair[1], stream: stream)
        }
        return entries
    }

    /// The entries of an `XRANGE`/`XREVRANGE` reply: `[[id, fields]…]`.
    static func fromRange(_ reply: RedisReply, stream: String) -> [RedisStreamEntry] {
        list(reply, stream: stream)
    }

    /// The claimed entries of an `XAUTOCLAIM` reply, `[next, [[id, fields]…], deleted]`,
    /// and the cursor to continue from (`0-0` when the scan is complete).
    static func fromClaim(_ reply: RedisReply, stream: String) -> (entries: [RedisStreamEntry], next: String) {
        guard case .array(let parts) = reply, parts.count >= 2, let next = parts[0].text else { return ([], "0-0") }
        return (list(parts[1], stream: stream), next)
    }

    private static func list(_ reply: RedisReply, stream: String) -> [RedisStreamEntry] {
        guard case .array(let items) = reply else { return [] }
        return items.compactMap { item in
            guard case .array(let parts) = item, parts.count == 2, let id = parts[0].text else { return nil }
            var envelope: [UInt8]?
            var traceparent: String?
            var tracestate: String?
            if case .array(let fields) = parts[1] {
                var index = 0
                while index + 1 < fields.count {
                    switch fields[index].text {
                    case "envelope": if case .bulk(let bytes) = fields[index + 1] { envelope = bytes }
                    case "traceparent": traceparent = fields[index + 1].text.flatMap { $0.isEmpty ? nil : $0 }
                    case "tracestate": tracestate = fields[index + 1].text.flatMap { $0.isEmpty ? nil : $0 }
                    default: break
                    }
                    index += 2
                }
            }
            return RedisStreamEntry(stream: stream, id: id, envelope: envelope, traceparent: traceparent, tracestate: tracestate)
        }
    }
}
