-- The head of a park list is settled: the next parked job (if any) is due at `now`; an empty
-- list leaves the retry schedule. Returns "NEXT" or "EMPTY".
local function schedule_next(park, retry, now, recipient)
  if redis.call("LLEN", park) > 0 then
    redis.call("ZADD", retry, now, recipient)
    return "NEXT"
  end
  redis.call("ZREM", retry, recipient)
  return "EMPTY"
end
