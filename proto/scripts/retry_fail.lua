-- The head of a park list failed again: record the attempt and schedule the next one.
-- KEYS[1] lease; KEYS[2] park list; KEYS[3] retry schedule (same slot)
-- ARGV[1] owner value; ARGV[2] recipient key; ARGV[3] encoded ParkedJob (updated head); ARGV[4] due time (ms)
-- Returns {"OK"} | {"EMPTY"} (nothing parked any more) | {"FENCED"}
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
if redis.call("EXISTS", KEYS[2]) == 0 then
  redis.call("ZREM", KEYS[3], ARGV[2])
  return {"EMPTY"}
end
redis.call("LSET", KEYS[2], 0, ARGV[3])
redis.call("ZADD", KEYS[3], ARGV[4], ARGV[2])
return {"OK"}
