-- First transient failure of a stream entry: it becomes the head of its
-- recipient's park list and the recipient is scheduled for a retry.
--! key lease
--! key stream
--! key park  park list
--! key retry  retry schedule (same slot)
--! arg owner string  lease owner value
--! arg group string  consumer group
--! arg entry_id string
--! arg parked_job bytes  encoded ParkedJob
--! arg due_ms int
--! arg recipient string  recipient key
--! reply OK
--! reply FENCED
-- Idempotent: the job is parked and scheduled only if XACK finds the entry still
-- pending, so a call resent after a lost connection (Redis ran it, the reply was
-- lost) answers {"OK"} again without parking the job a second time; the first
-- run's schedule stands.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
if redis.call("XACK", KEYS[2], ARGV[2], ARGV[3]) == 1 then
  redis.call("LPUSH", KEYS[3], ARGV[4])
  redis.call("ZADD", KEYS[4], ARGV[5], ARGV[6])
end
redis.call("XDEL", KEYS[2], ARGV[3])
return {"OK"}
