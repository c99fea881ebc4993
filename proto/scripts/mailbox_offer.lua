-- Offer one message to a wallet: keep order with what already waits; decide on a push notification.
--! key route  wallet route key
--! key mailbox  wallet mailbox (same {w:...} slot)
--! key push_device  the wallet's `wallet_push_device` key (same slot)
--! key push_window  the wallet's `wallet_push_window` key (same slot)
--! key pickup?  the wallet's `wallet_pickup` key (same slot)
--! arg message bytes  encoded WalletMessage
--! arg cap int  mailbox cap (0 = none)
--! arg live string  "1" = the caller may deliver live (route present and the mailbox empty), "0" = mailbox only, "dead" = mailbox only and the route names a dead relay
--! arg push_window_ms int?  coalescing window of push notifications; absent or 0 = decide on none
--! reply LIVE route:bytes  nothing written: the caller pushes to the relay
--! reply MBOX depth:int route:bytes push:bytes  appended; route is empty without a session
--! reply FULL depth:int  not written
--! reply PICKUP depth:int route:bytes pickup:bytes push:bytes  appended, Message Pickup 2.0
-- While the pickup key exists the wallet collects with Message Pickup 2.0, so the message is
-- always appended (never LIVE) and the answer carries the pickup state for the caller's
-- decision on a live `delivery`.
-- `push` is the wallet's device (the `wallet_push_device` value) when the caller is to send it a
-- push notification: the message was appended, the wallet has no session (no route, or one the
-- caller found dead: `live` = "dead"), it
-- registered a device, and no notification was decided within the window (which this starts).
-- Otherwise it is empty. On the online path it costs nothing: a route present skips the reads.
local route = redis.call("GET", KEYS[1])
local depth = redis.call("LLEN", KEYS[2])
local pickup = KEYS[5] and redis.call("GET", KEYS[5])
if ARGV[3] == "1" and route and depth == 0 and not pickup then
  return {"LIVE", route}
end
local cap = tonumber(ARGV[2])
if cap > 0 and depth >= cap then
  return {"FULL", depth}
end
depth = redis.call("RPUSH", KEYS[2], ARGV[1])
local push = ""
local window_ms = tonumber(ARGV[4] or "0")
if (not route or ARGV[3] == "dead") and window_ms > 0 then
  local device = redis.call("GET", KEYS[3])
  if device and redis.call("SET", KEYS[4], "1", "NX", "PX", window_ms) then
    push = device
  end
end
if pickup then
  return {"PICKUP", depth, route or "", pickup, push}
end
return {"MBOX", depth, route or "", push}
