-- Acknowledge entries and delete them, so that XLEN stays equal to the
-- backlog (acknowledged entries are never needed again).
-- KEYS[1] stream; ARGV[1] consumer group; ARGV[2..n] entry ids
-- Returns the number of entries acknowledged.
-- In chunks: unpack() fails ("too many results to unpack") past Lua's stack limit
-- (about 8000 values), and a batch that can never succeed would be retried forever.
local chunk = 1000
local acked = 0
for first = 2, #ARGV, chunk do
  local last = math.min(first + chunk - 1, #ARGV)
  acked = acked + redis.call("XACK", KEYS[1], ARGV[1], unpack(ARGV, first, last))
  redis.call("XDEL", KEYS[1], unpack(ARGV, first, last))
end
return acked
