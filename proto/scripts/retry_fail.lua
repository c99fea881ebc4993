-- The head of a park list failed again: record the attempt and schedule the next one.
--! key lease
--! key park  park list
--! key retry  retry schedule (same slot)
--! arg owner string  lease owner value
--! arg recipient string  recipient key
--! arg parked_job bytes  encoded ParkedJob (updated head)
--! arg due_ms int
--! reply OK
--! reply EMPTY  nothing parked any more
--! reply FENCED
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
