-- Offer one message to a wallet: keep order with what already waits.
-- KEYS[1] wallet route key; KEYS[2] wallet mailbox (same {w:...} slot)
-- ARGV[1] encoded WalletMessage; ARGV[2] mailbox cap (0 = none); ARGV[3] 1 = the
-- caller may deliver live (route present and the mailbox empty), 0 = mailbox only
-- Returns {"LIVE", route bytes} (nothing written: the caller pushes to the relay),
--         {"MBOX", depth, route bytes or ""} (appended), {"FULL", depth} (not written).
local route = redis.call("GET", KEYS[1])
local depth = redis.call("LLEN", KEYS[2])
if ARGV[3] == "1" and route and depth == 0 then
  return {"LIVE", route}
end
local cap = tonumber(ARGV[2])
if cap > 0 and depth >= cap then
  return {"FULL", depth}
end
depth = redis.call("RPUSH", KEYS[2], ARGV[1])
return {"MBOX", depth, route or ""}
