/// The Lua script that publishes a group of records, each atomically: set its
/// dedupe key (`SET NX EX`) and only if that was new, `XADD` it to each of its
/// streams (its topic shard and its workflow stream). If an `XADD` fails (a
/// `WRONGTYPE` key), the entries already added for that record are deleted
/// again (`XDEL`) and so is the dedupe key, so a record is in all of its
/// streams or in none, and a later retry is not mistaken for a duplicate.
/// (What the first `XADD`'s `MAXLEN ~` trimmed of older entries stays trimmed.)
///
/// KEYS: per record, its dedupe key and then its streams.
/// ARGV: TTL seconds (0: no dedupe), MAXLEN (0: none), streams per record
/// (the same for every record of a call), `1` when a duplicate must still
/// write (it refreshes its dedupe key's expiry: with `redis.min_replicas` the
/// `WAIT` that follows then covers the first copy's write too, whichever
/// connection made it), then per record nine values: the
/// envelope JSON, id, type, subject, state, tag, time (empty when the envelope
/// has none), and the W3C traceparent and tracestate stored with the record
/// (empty when none). Fixed positions keep the script free of table building: it costs
/// Redis about as much as the commands it runs.
/// Returns per record: the first new entry id, `0` for a duplicate, or `!reason`.
enum RedisStreamScript {
    static let source = """
        local ttl = tonumber(ARGV[1])
        local maxlen = ARGV[2]
        local trim = tonumber(maxlen) > 0
        local per = tonumber(ARGV[3])
        local touch = ARGV[4] == '1'
        local results = {}
        local a = 5
        local call = redis.call
        local pcall = pcall
        for i = 1, #KEYS, per + 1 do
          if ttl == 0 or call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
            local first, failure
            local added = {}
            for s = 1, per do
              local ok, id
              if trim then
                ok, id = pcall(call, 'XADD', KEYS[i + s], 'MAXLEN', '~', maxlen, '*',
                  'envelope', ARGV[a], 'id', ARGV[a + 1], 'type', ARGV[a + 2], 'subject', ARGV[a + 3],
                  'state', ARGV[a + 4], 'tag', ARGV[a + 5], 'time', ARGV[a + 6],
                  'traceparent', ARGV[a + 7], 'tracestate', ARGV[a + 8])
              else
                ok, id = pcall(call, 'XADD', KEYS[i + s], '*',
                  'envelope', ARGV[a], 'id', ARGV[a + 1], 'type', ARGV[a + 2], 'subject', ARGV[a + 3],
                  'state', ARGV[a + 4], 'tag', ARGV[a + 5], 'time', ARGV[a + 6],
                  'traceparent', ARGV[a + 7], 'tracestate', ARGV[a + 8])
              end
              if not ok then
                failure = (type(id) == 'table' and id.err or tostring(id))
                break
              end
              added[s] = id
              first = first or id
            end
            if failure then
              for s, id in pairs(added) do call('XDEL', KEYS[i + s], id) end
              if ttl > 0 then call('DEL', KEYS[i]) end
              results[#results + 1] = '!' .. failure
            else
              results[#results + 1] = first
            end
          else
            if touch then call('EXPIRE', KEYS[i], ttl) end
            results[#results + 1] = 0
          end
          a = a + 9
        end
        return results
        """
}
