-- Let a stream entry through, or queue it behind its recipient's parked jobs
-- so that one recipient's messages keep their order while it is in backoff.
-- KEYS[1] lease; KEYS[2] stream; KEYS[3] the recipient's park list (same slot)
-- ARGV[1] owner value; ARGV[2] consumer group; ARGV[3] entry id; ARGV[4] encoded ParkedJob
-- Returns {"GO"} | {"PARKED"} (appended, entry acknowledged and deleted) | {"FENCED"}
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
if redis.call("EXISTS", KEYS[3]) == 0 then
  return {"GO"}
end
redis.call("RPUSH", KEYS[3], ARGV[4])
redis.call("XACK", KEYS[2], ARGV[2], ARGV[3])
redis.call("XDEL", KEYS[2], ARGV[3])
return {"PARKED"}
