-- Message Pickup 2.0 `messages-received`: remove exactly the acknowledged messages from a
-- wallet's mailbox, wherever they are in it; mids not in it are ignored.
-- KEYS[1] wallet mailbox; KEYS[2] the wallet's `wallet_pickup_sent` hash (same {w:...} slot)
-- ARGV the acknowledged mids.
-- The mailbox holds encoded WalletMessages; their mid (field 1, length-delimited) is read here.
-- The list is read in pages from the head (where delivered messages are) and the scan stops
-- once every mid was found. Matches are overwritten with a tombstone, then removed with one
-- LREM; a tombstone starts with a zero byte, which no encoded WalletMessage does (tag 0).
-- Returns {removed, remaining depth}.
local function mid_of(buf)
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
      varint()
    elseif wire == 2 then
      local len = varint()
      if field == 1 then return string.sub(buf, i, i + len - 1) end
      i = i + len
    elseif wire == 1 then
      i = i + 8
    elseif wire == 5 then
      i = i + 4
    else
      return nil
    end
  end
  return nil
end
local wanted, missing = {}, 0
for _, mid in ipairs(ARGV) do
  if not wanted[mid] then
    wanted[mid] = true
    missing = missing + 1
  end
  redis.call("HDEL", KEYS[2], mid)
end
local tombstone = "\0pickup-acknowledged"
local page, start, removed = 256, 0, 0
while missing > 0 do
  local items = redis.call("LRANGE", KEYS[1], start, start + page - 1)
  if #items == 0 then break end
  for offset, item in ipairs(items) do
    local mid = mid_of(item)
    if mid and wanted[mid] then
      redis.call("LSET", KEYS[1], start + offset - 1, tombstone)
      removed = removed + 1
      if wanted[mid] == true then
        wanted[mid] = "found"
        missing = missing - 1
      end
    end
  end
  start = start + page
end
if removed > 0 then redis.call("LREM", KEYS[1], 0, tombstone) end
return {removed, redis.call("LLEN", KEYS[1])}
