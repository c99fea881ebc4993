-- Give a lease up at once (compare-and-delete), so the next owner need not wait for the TTL.
--! key lease
--! arg owner string
--! returns int  1 when released, 0 when it was not held by this owner
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
