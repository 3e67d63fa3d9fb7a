/// The Lua script that publishes a group of records atomically per record:
/// for each one, set its dedupe key (`SET NX EX`) and only if that was new,
/// `XADD` it. If `XADD` fails (a `WRONGTYPE` key), the dedupe key is removed
/// again so a later retry is not mistaken for a duplicate.
///
/// KEYS: dedupe key and stream for each record, in pairs.
/// ARGV: TTL seconds (0: no dedupe), MAXLEN (0: none), then per record seven
/// values: the envelope JSON, id, type, subject, state, tag, time (empty when
/// the envelope has none). Fixed positions keep the script free of table
/// building: it costs Redis about as much as the two commands it runs.
/// Returns per record: the new entry id, `0` for a duplicate, or `!reason`.
enum RedisStreamScript {
    static let source = """
        local ttl = tonumber(ARGV[1])
        local maxlen = ARGV[2]
        local trim = tonumber(maxlen) > 0
        local results = {}
        local a = 3
        local call = redis.call
        local pcall = pcall
        for i = 1, #KEYS, 2 do
          if ttl == 0 or call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
            local ok, id
            if trim then
              ok, id = pcall(call, 'XADD', KEYS[i + 1], 'MAXLEN', '~', maxlen, '*',
                'envelope', ARGV[a], 'id', ARGV[a + 1], 'type', ARGV[a + 2], 'subject', ARGV[a + 3],
                'state', ARGV[a + 4], 'tag', ARGV[a + 5], 'time', ARGV[a + 6])
            else
              ok, id = pcall(call, 'XADD', KEYS[i + 1], '*',
                'envelope', ARGV[a], 'id', ARGV[a + 1], 'type', ARGV[a + 2], 'subject', ARGV[a + 3],
                'state', ARGV[a + 4], 'tag', ARGV[a + 5], 'time', ARGV[a + 6])
            end
            if ok then
              results[#results + 1] = id
            else
              if ttl > 0 then call('DEL', KEYS[i]) end
              results[#results + 1] = '!' .. (type(id) == 'table' and id.err or tostring(id))
            end
          else
            results[#results + 1] = 0
          end
          a = a + 7
        end
        return results
        """
}
