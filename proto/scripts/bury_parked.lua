-- Give up the head of a park list: the dead letter is written before the head
-- is removed; the next parked job (if any) is due at once.
-- KEYS[1] lease; KEYS[2] park list; KEYS[3] retry schedule; KEYS[4] dead-letter stream (same slot)
-- ARGV[1] owner value; ARGV[2] recipient key; ARGV[3] now (ms); ARGV[4] entry field
-- ARGV[5] encoded DeadLetter; ARGV[6] dead-letter stream cap (0 = none)
-- ARGV[7] SHA-1 (hex) of the head the caller gives up
-- Returns {"NEXT", dead letter id} (more parked, due now) | {"EMPTY", dead letter id} | {"FENCED"};
-- the dead letter id is "" when the head was no longer the given one (nothing written).
-- Only the given head is buried: a client may send this call again after a lost connection
-- although Redis ran it, and a second blind run would write a second dead letter and drop
-- the next job undelivered.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local id = ""
local head = redis.call("LINDEX", KEYS[2], 0)
if head and redis.sha1hex(head) == ARGV[7] then
  local cap = tonumber(ARGV[6])
  if cap > 0 then
    id = redis.call("XADD", KEYS[4], "MAXLEN", "~", cap, "*", ARGV[4], ARGV[5])
  else
    id = redis.call("XADD", KEYS[4], "*", ARGV[4], ARGV[5])
  end
  redis.call("LPOP", KEYS[2])
end
if redis.call("LLEN", KEYS[2]) > 0 then
  redis.call("ZADD", KEYS[3], ARGV[3], ARGV[2])
  return {"NEXT", id}
end
redis.call("ZREM", KEYS[3], ARGV[2])
return {"EMPTY", id}
