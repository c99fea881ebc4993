-- The head of a park list was delivered: drop it; the next one (if any) is due at once.
-- KEYS[1] lease; KEYS[2] park list; KEYS[3] retry schedule (same slot)
-- ARGV[1] owner value; ARGV[2] recipient key; ARGV[3] now (ms)
-- Returns {"NEXT"} (more parked, due now) | {"EMPTY"} | {"FENCED"}
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
redis.call("LPOP", KEYS[2])
if redis.call("LLEN", KEYS[2]) > 0 then
  redis.call("ZADD", KEYS[3], ARGV[3], ARGV[2])
  return {"NEXT"}
end
redis.call("ZREM", KEYS[3], ARGV[2])
return {"EMPTY"}
