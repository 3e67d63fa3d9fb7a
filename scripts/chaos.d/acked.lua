-- wrk script for scripts/chaos: the bench's stream of callbacks
-- (scripts/bench.d/callbacks.lua: the spec's callbacks, XML and JSON, unique
-- ids, paced by BENCH_DELAY_MS), plus every CloudEvents id that cibridge
-- answered 2xx for, written to CHAOS_ACKED.<thread> a line each as the answer
-- arrives (line-buffered, so a stop loses nothing). Run from the repository root.
dofile("scripts/bench.d/callbacks.lua")

local base_init = init
function init(args)
    base_init(args)
    acked = assert(io.open(os.getenv("CHAOS_ACKED") .. "." .. tid, "a"))
    acked:setvbuf("line")
end

function response(status, headers, body)
    if status >= 200 and status < 300 then
        local ids = body:match('"ids":%[(.-)%]')
        if ids then
            for id in ids:gmatch('"([^"]+)"') do acked:write(id, "\n") end
        end
    end
end
