-- Take (or keep) the single-owner lease of a partition.
--! key lease
--! arg owner string  "<instance id>:<token>"
--! arg ttl_ms int
--! reply OK  this owner holds the lease now
--! reply HELD holder:string  another owner does
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
