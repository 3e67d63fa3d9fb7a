-- wrk script for scripts/check-replicas: scripts/chaos.d/acked.lua (the
-- bench's callbacks; every 2xx'd CloudEvents id to CHAOS_ACKED.<thread>),
-- plus every answer's status to REPLICAS_STATUS.<thread>, a line each
-- (line-buffered), so non-2xx answers can be counted by status.
-- Run from the repository root.
dofile("scripts/chaos.d/acked.lua")

local acked_init = init
function init(args)
    acked_init(args)
    statuses = assert(io.open(os.getenv("REPLICAS_STATUS") .. "." .. tid, "a"))
    statuses:setvbuf("line")
end

local acked_response = response
function response(status, headers, body)
    statuses:write(status, "\n")
    acked_response(status, headers, body)
end
