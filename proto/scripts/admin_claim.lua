-- Decide who an admin request belongs to: the shim that would run it, or its requester giving
-- up on it. The first claim of the request's mid wins; later ones (a second shim, a shim after
-- the requester gave up, a duplicate entry of a retried XADD) lose. The entry is deleted either
-- way: nobody reads it again.
--! key stream  the admin partition (admin_requests)
--! key claim  the request's admin_claims marker
--! arg entry_id string  the entry's id
--! arg claimant string  "run" (a shim) or "withdraw" (its requester)
--! arg ttl_ms int  how long the claim is remembered
--! returns int  1 if this claim won (run it / it was never run), 0 if another claim was first
redis.call("XDEL", KEYS[1], ARGV[1])
if redis.call("SET", KEYS[2], ARGV[2], "NX", "PX", ARGV[3]) then
  return 1
end
return 0
