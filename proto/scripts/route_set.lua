-- Register a wallet's route (wallet key -> relay + socket): the newest session wins.
-- KEYS[1] wallet route key; ARGV[1] encoded WalletRoute; ARGV[2] its epoch;
-- ARGV[3] TTL in ms. KEYS[2] (optional, same slot) the wallet's `wallet_pickup` key.
-- The stored value is a WalletRoute; its epoch (field 3, varint) is read here.
-- Returns {"SET", the replaced route's epoch, or "" if there was none, "PICKUP" if KEYS[2] exists
-- (the wallet collects with Message Pickup 2.0: no drain) or ""} | {"STALE", stored epoch}.
local function epoch_of(buf)
  local i, n = 1, #buf
  local function varint()
    local value, mult = 0, 1
    while i <= n do
      local b = string.byte(buf, i)
      i = i + 1
      value = value + (b % 128) * mult
      if b < 128 then return value end
      mult = mult * 128
    end
    return value
  end
  while i <= n do
    local tag = varint()
    local field, wire = math.floor(tag / 8), tag % 8
    if wire == 0 then
      local v = varint()
      if field == 3 then return v end
    elseif wire == 2 then
      i = i + varint()
    elseif wire == 1 then
      i = i + 8
    elseif wire == 5 then
      i = i + 4
    else
      return 0
    end
  end
  return 0
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
