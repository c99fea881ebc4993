-- Offer one message to a wallet: keep order with what already waits.
--! key route  wallet route key
--! key mailbox  wallet mailbox (same {w:...} slot)
--! arg message bytes  encoded WalletMessage
--! arg cap int  mailbox cap (0 = none)
--! arg live string  "1" = the caller may deliver live (route present and the mailbox empty), "0" = mailbox only
--! reply LIVE route:bytes  nothing written: the caller pushes to the relay
--! reply MBOX depth:int route:bytes  appended; route is empty without a session
--! reply FULL depth:int  not written
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
