-- Give a lease up at once (compare-and-delete), so the next owner need not wait for the TTL.
-- KEYS[1] lease; ARGV[1] owner value
-- Returns 1 when released, 0 when it was not held by this owner.
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
