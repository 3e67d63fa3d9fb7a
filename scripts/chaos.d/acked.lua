-- wrk script for scripts/chaos: a paced stream of the spec's callbacks (XML
-- and JSON, unique job/run ids, 64 workflows), and every CloudEvents id that
-- cibridge answered 2xx for written to CHAOS_ACKED.<thread>, a line each, as
-- the answer arrives (line-buffered, so a stop loses nothing).

local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
end

local function slurp(path)
    local file = assert(io.open(path, "rb"))
    local text = file:read("*a")
    file:close()
    return text
end

function init(args)
    local dir = os.getenv("CHAOS_FIXTURES")
    bodies = {
        { slurp(dir .. "/case1-task-api.xml"), "application/xml" },
        { slurp(dir .. "/case2-workflow.xml"), "application/xml" },
        { slurp(dir .. "/case3-workflow.json"), "application/json" },
    }
    n = 0
    acked = assert(io.open(os.getenv("CHAOS_ACKED") .. "." .. tid, "a"))
    acked:setvbuf("line")
end

local pause = tonumber(os.getenv("CHAOS_DELAY_MS") or "0")
function delay() return pause end

function request()
    n = n + 1
    local body = bodies[(n % 3) + 1]
    local unique = string.format("c%02d%029d", tid, n)
    local text = body[1]
        :gsub("j6842765cf84611ecb8546d80f2baf56f", "j" .. unique)
        :gsub("ic90edd59f84f11ec9d4f525400a3c59f", "i" .. unique)
        :gsub("web6ac56c1ef54dbfa44d7f4103203be9", string.format("w%031d", (n * 7 + tid) % 64))
    return wrk.format("POST", nil, { ["Content-Type"] = body[2] }, text)
end

function response(status, headers, body)
    if status >= 200 and status < 300 then
        local ids = body:match('"ids":%[(.-)%]')
        if ids then
            for id in ids:gmatch('"([^"]+)"') do acked:write(id, "\n") end
        end
    end
end
