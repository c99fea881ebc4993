-- Acknowledge and delete delivered entries, only while the caller holds the partition's lease.
-- KEYS[1] lease; KEYS[2] stream (same slot)
-- ARGV[1] owner value; ARGV[2] consumer group; ARGV[3..n] entry ids
-- Returns {"OK", acknowledged} | {"FENCED"}
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local ids = {}
for i = 3, #ARGV do
  ids[#ids + 1] = ARGV[i]
end
local acked = redis.call("XACK", KEYS[2], ARGV[2], unpack(ids))
redis.call("XDEL", KEYS[2], unpack(ids))
return {"OK", acked}
