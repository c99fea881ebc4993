-- Acknowledge and delete delivered entries, only while the caller holds the partition's lease.
-- KEYS[1] lease; KEYS[2] stream (same slot)
-- ARGV[1] owner value; ARGV[2] consumer group; ARGV[3..n] entry ids
-- Returns {"OK", acknowledged} | {"FENCED"}
-- In chunks: unpack() fails ("too many results to unpack") past Lua's stack limit
-- (about 8000 values), and a batch that can never succeed would be retried forever.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local chunk = 1000
local acked = 0
for first = 3, #ARGV, chunk do
  local last = math.min(first + chunk - 1, #ARGV)
  acked = acked + redis.call("XACK", KEYS[2], ARGV[2], unpack(ARGV, first, last))
  redis.call("XDEL", KEYS[2], unpack(ARGV, first, last))
end
return {"OK", acked}
