-- Acknowledge and delete delivered entries, only while the caller holds the partition's lease.
--! key lease
--! key stream  same slot
--! arg owner string  lease owner value
--! arg group string  consumer group
--! arg ids string...  entry ids
--! reply OK acked:int
--! reply FENCED
--! include chunked_ack
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
return {"OK", chunked_ack(KEYS[2], ARGV[2], 3)}
