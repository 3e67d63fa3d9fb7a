/// The Lua script that publishes a group of records atomically per record:
/// for each one, set its dedupe key (`SET NX EX`) and only if that was new,
/// `XADD` it. If `XADD` fails (a `WRONGTYPE` key), the dedupe key is removed
/// again so a later retry is not mistaken for a duplicate.
///
/// KEYS: dedupe key and stream for each record, in pairs.
/// ARGV: TTL seconds (0: no dedupe), MAXLEN (0: none), then per record the
/// number of field/value strings followed by them.
/// Returns per record: the new entry id, `0` for a duplicate, or `!reason`.
enum RedisStreamScript {
    static let source = """
        local ttl = tonumber(ARGV[1])
        local maxlen = tonumber(ARGV[2])
        local results = {}
        local a = 3
        for i = 1, #KEYS, 2 do
          local n = tonumber(ARGV[a])
          a = a + 1
          local fresh = true
          if ttl > 0 then
            fresh = redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl)
          end
          if fresh then
            local args
            if maxlen > 0 then
              args = {'XADD', KEYS[i + 1], 'MAXLEN', '~', maxlen, '*'}
            else
              args = {'XADD', KEYS[i + 1], '*'}
            end
            for j = a, a + n - 1 do args[#args + 1] = ARGV[j] end
            local ok, id = pcall(redis.call, unpack(args))
            if ok then
              results[#results + 1] = id
            else
              if ttl > 0 then redis.call('DEL', KEYS[i]) end
              results[#results + 1] = '!' .. (type(id) == 'table' and id.err or tostring(id))
            end
          else
            results[#results + 1] = 0
          end
          a = a + n
        end
        return results
        """
}
