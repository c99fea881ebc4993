-- Move one pending entry to its partition's dead-letter stream: the dead
-- letter is written before the entry is acknowledged and deleted.
-- KEYS[1] stream; KEYS[2] dead-letter stream (same slot)
-- ARGV[1] consumer group; ARGV[2] entry id; ARGV[3] entry field
-- ARGV[4] encoded DeadLetter; ARGV[5] dead-letter stream cap (0 = none)
-- Returns the dead-letter entry id.
local cap = tonumber(ARGV[5])
local id
if cap > 0 then
  id = redis.call("XADD", KEYS[2], "MAXLEN", "~", cap, "*", ARGV[3], ARGV[4])
else
  id = redis.call("XADD", KEYS[2], "*", ARGV[3], ARGV[4])
end
redis.call("XACK", KEYS[1], ARGV[1], ARGV[2])
redis.call("XDEL", KEYS[1], ARGV[2])
return id
