-- Register a wallet's route (wallet key -> relay + socket): the newest session wins.
--! key route  wallet route key
--! key pickup?  the wallet's `wallet_pickup` key (same slot)
--! arg wallet_route bytes  encoded WalletRoute
--! arg epoch int  its epoch
--! arg ttl_ms int
--! reply SET replaced_epoch:string pickup:string  replaced: the replaced route's epoch, or "" if there was none; pickup: "PICKUP" if the pickup key exists (the wallet collects with Message Pickup 2.0: no drain), else ""
--! reply STALE stored_epoch:string
--! include wallet_route
local function epoch_of(buf)
  local _, _, epoch = wallet_route(buf)
  return epoch or 0
end
local current = redis.call("GET", KEYS[1])
local epoch = tonumber(ARGV[2])
local replaced = ""
if current then
  local stored = epoch_of(current)
  if stored > epoch then
    return {"STALE", string.format("%.0f", stored)}
  end
  -- %.0f, not tostring: epochs (ms * 1000 + counter) have 16 digits, tostring keeps 14.
  replaced = string.format("%.0f", stored)
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[3])
local pickup = ""
if KEYS[2] and redis.call("EXISTS", KEYS[2]) == 1 then pickup = "PICKUP" end
return {"SET", replaced, pickup}
