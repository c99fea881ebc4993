-- Take (or keep) the single-owner lease of a partition.
-- KEYS[1] lease; ARGV[1] owner value "<instance id>:<token>"; ARGV[2] ttl in ms
-- Returns {"OK"} when this owner holds the lease now, {"HELD", current owner} otherwise.
local current = redis.call("GET", KEYS[1])
if not current then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
  return {"OK"}
end
if current == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return {"OK"}
end
return {"HELD", current}
