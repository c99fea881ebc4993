-- Give up the head of a park list: the dead letter is written before the head
-- is removed; the next parked job (if any) is due at once.
-- KEYS[1] lease; KEYS[2] park list; KEYS[3] retry schedule; KEYS[4] dead-letter stream (same slot)
-- ARGV[1] owner value; ARGV[2] recipient key; ARGV[3] now (ms); ARGV[4] entry field
-- ARGV[5] encoded DeadLetter; ARGV[6] dead-letter stream cap (0 = none)
-- Returns {"NEXT", dead letter id} (more parked, due now) | {"EMPTY", dead letter id} | {"FENCED"}
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local cap = tonumber(ARGV[6])
local id
if cap > 0 then
  id = redis.call("XADD", KEYS[4], "MAXLEN", "~", cap, "*", ARGV[4], ARGV[5])
else
  id = redis.call("XADD", KEYS[4], "*", ARGV[4], ARGV[5])
end
redis.call("LPOP", KEYS[2])
if redis.call("LLEN", KEYS[2]) > 0 then
  redis.call("ZADD", KEYS[3], ARGV[3], ARGV[2])
  return {"NEXT", id}
end
redis.call("ZREM", KEYS[3], ARGV[2])
return {"EMPTY", id}
