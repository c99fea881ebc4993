-- Extend a lease only while this owner still holds it (compare-and-PEXPIRE).
--! key lease
--! arg owner string
--! arg ttl_ms int
--! returns int  1 when renewed, 0 when the lease is lost (fenced)
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
