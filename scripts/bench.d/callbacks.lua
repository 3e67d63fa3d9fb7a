-- wrk script for scripts/bench: POSTs the spec's three callbacks (XML and JSON)
-- round-robin, each with a unique JobId/RunId and one of BENCH_WORKFLOWS
-- WorkflowIds (default 256, so many partitions and streams are used; 1: every
-- callback has the same one, as with most users), so every request is a new event.
-- Usage: BENCH_FIXTURES=dir BENCH_RESULT=file wrk ... -s callbacks.lua URL

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    table.insert(threads, thread)
end

local function slurp(path)
    local file = assert(io.open(path, "rb"))
    local text = file:read("*a")
    file:close()
    return text
end

function init(args)
    math.randomseed(os.time() + (tid or 0))
    local dir = os.getenv("BENCH_FIXTURES")
    bodies = {
        { slurp(dir .. "/case1-task-api.xml"), "application/xml" },
        { slurp(dir .. "/case2-workflow.xml"), "application/xml" },
        { slurp(dir .. "/case3-workflow.json"), "application/json" },
    }
    n = 0
    run = tonumber(os.getenv("BENCH_RUN") or "0")  -- ids stay unique across the runs of one bench
    workflows = tonumber(os.getenv("BENCH_WORKFLOWS") or "256")
end

-- BENCH_DELAY_MS: each connection pauses between requests (a paced load), by
-- default for a time drawn from an exponential distribution with this mean, so
-- the connections call independently (Poisson arrivals, like callbacks from
-- many jobs) instead of in lockstep; BENCH_PACING=fixed pauses exactly this long.
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause and pause > 0 then
    if os.getenv("BENCH_PACING") == "fixed" then
        local fixed = math.floor(pause + 0.5)
        function delay() return fixed end
    else
        function delay() return math.floor(-math.log(1 - math.random()) * pause + 0.5) end
    end
end

function request()
    n = n + 1
    local body = bodies[(n % 3) + 1]
    local unique = string.format("%02d%02d%028d", run, tid, n)
    local text = body[1]
        :gsub("j6842765cf84611ecb8546d80f2baf56f", "j" .. unique)
        :gsub("ic90edd59f84f11ec9d4f525400a3c59f", "i" .. unique)
        :gsub("web6ac56c1ef54dbfa44d7f4103203be9", string.format("w%031d", (n * 7 + tid) % workflows))
    return wrk.format("POST", nil, { ["Content-Type"] = body[2] }, text)
end

function done(summary, latency, requests)
    local out = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
    local seconds = summary.duration / 1e6
    local bad = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
    out:write(string.format("requests=%d seconds=%.3f rps=%.0f p50=%.3f p99=%.3f max=%.3f errors=%d non2xx=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
        bad, summary.errors.status))
    out:close()
end
