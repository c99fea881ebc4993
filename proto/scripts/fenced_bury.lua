-- Move one pending stream entry to the dead-letter stream, only while the
-- caller holds the partition's lease (the dead letter is written first).
-- KEYS[1] lease; KEYS[2] stream; KEYS[3] dead-letter stream (same slot)
-- ARGV[1] owner value; ARGV[2] consumer group; ARGV[3] entry id; ARGV[4] entry field
-- ARGV[5] encoded DeadLetter; ARGV[6] dead-letter stream cap (0 = none)
-- Returns {"OK", dead letter id} | {"FENCED"}
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local cap = tonumber(ARGV[6])
local id
if cap > 0 then
  id = redis.call("XADD", KEYS[3], "MAXLEN", "~", cap, "*", ARGV[4], ARGV[5])
else
  id = redis.call("XADD", KEYS[3], "*", ARGV[4], ARGV[5])
end
redis.call("XACK", KEYS[2], ARGV[2], ARGV[3])
redis.call("XDEL", KEYS[2], ARGV[3])
return {"OK", id}
