-- wrk script for scripts/bench_server.sh: AllocatePublicIpAddress requests
-- (V1 query shape, Format=JSON) cycling over AIPA_BENCH_INSTANCES instances
-- named i-bench000001.., each thread from its own offset.
local count = tonumber(os.getenv("AIPA_BENCH_INSTANCES") or "2000")
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

function init(args)
  next_id = offset or 0
end

function request()
  next_id = next_id + 1
  local id = string.format("i-bench%06d", (next_id % count) + 1)
  return wrk.format("GET", "/?Action=AllocatePublicIpAddress&Version=2014-05-26&Format=JSON" ..
    "&RegionId=cn-hangzhou&InstanceId=" .. id)
end
