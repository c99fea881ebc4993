-- Offer one message to a wallet: keep order with what already waits.
--! key route  wallet route key
--! key mailbox  wallet mailbox (same {w:...} slot)
--! key pickup?  the wallet's `wallet_pickup` key (same slot)
--! arg message bytes  encoded WalletMessage
--! arg cap int  mailbox cap (0 = none)
--! arg live string  "1" = the caller may deliver live (route present and the mailbox empty), "0" = mailbox only
--! reply LIVE route:bytes  nothing written: the caller pushes to the relay
--! reply MBOX depth:int route:bytes  appended; route is empty without a session
--! reply FULL depth:int  not written
--! reply PICKUP depth:int route:bytes pickup:bytes  appended, Message Pickup 2.0
-- While the pickup key exists the wallet collects with Message Pickup 2.0, so the message is
-- always appended (never LIVE) and the answer carries the pickup state for the caller's
-- decision on a live `delivery`.
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
