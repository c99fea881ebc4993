-- Let a stream entry through, or queue it behind its recipient's parked jobs
-- so that one recipient's messages keep their order while it is in backoff.
--! key lease
--! key stream
--! key park  the recipient's park list (same slot)
--! arg owner string  lease owner value
--! arg group string  consumer group
--! arg entry_id string
--! arg parked_job bytes  encoded ParkedJob
--! reply GO
--! reply PARKED  appended, entry acknowledged and deleted
--! reply FENCED
-- Idempotent: the job is appended only if XACK finds the entry still pending, so a
-- call resent after a lost connection (Redis ran it, the reply was lost) answers
-- {"PARKED"} again without parking the job a second time.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
if redis.call("EXISTS", KEYS[3]) == 0 then
  return {"GO"}
end
if redis.call("XACK", KEYS[2], ARGV[2], ARGV[3]) == 1 then
  redis.call("RPUSH", KEYS[3], ARGV[4])
end
redis.call("XDEL", KEYS[2], ARGV[3])
return {"PARKED"}
