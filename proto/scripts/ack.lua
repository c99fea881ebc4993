-- Acknowledge entries and delete them, so that XLEN stays equal to the
-- backlog (acknowledged entries are never needed again).
-- KEYS[1] stream; ARGV[1] consumer group; ARGV[2..n] entry ids
-- Returns the number of entries acknowledged.
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = ARGV[i]
end
local acked = redis.call("XACK", KEYS[1], ARGV[1], unpack(ids))
redis.call("XDEL", KEYS[1], unpack(ids))
return acked
