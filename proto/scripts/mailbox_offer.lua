-- Offer one message to a wallet: keep order with what already waits.
-- KEYS[1] wallet route key; KEYS[2] wallet mailbox (same {w:...} slot)
-- ARGV[1] encoded WalletMessage; ARGV[2] mailbox cap (0 = none); ARGV[3] 1 = the
-- caller may deliver live (route present and the mailbox empty), 0 = mailbox only
-- KEYS[3] (optional, same slot) the wallet's `wallet_pickup` key: while it exists the wallet
-- collects with Message Pickup 2.0, so the message is always appended (never LIVE) and the answer
-- carries the pickup state for the caller's decision on a live `delivery`.
-- Returns {"LIVE", route bytes} (nothing written: the caller pushes to the relay),
--         {"MBOX", depth, route bytes or ""} (appended), {"FULL", depth} (not written),
--         {"PICKUP", depth, route bytes or "", pickup bytes} (appended, Message Pickup 2.0).
local route = redis.call("GET", KEYS[1])
local depth = redis.call("LLEN", KEYS[2])
local pickup = KEYS[3] and redis.call("GET", KEYS[3])
if ARGV[3] == "1" and route and depth == 0 and not pickup then
  return {"LIVE", route}
end
local cap = tonumber(ARGV[2])
if cap > 0 and depth >= cap then
  return {"FULL", depth}
end
depth = redis.call("RPUSH", KEYS[2], ARGV[1])
if pickup then
  return {"PICKUP", depth, route or "", pickup}
end
return {"MBOX", depth, route or ""}
