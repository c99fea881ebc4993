-- Message Pickup 2.0 `messages-received`: remove exactly the acknowledged messages from a
-- wallet's mailbox, wherever they are in it; mids not in it are ignored.
--! key mailbox  wallet mailbox
--! key sent  the wallet's `wallet_pickup_sent` hash (same {w:...} slot)
--! arg mids string...  the acknowledged mids
--! returns removed:int depth:int  how many were removed, and the remaining depth
--! include wallet_message_mid
-- The list is read in pages from the head (where delivered messages are) and the scan stops
-- once every mid was found. Matches are overwritten with a tombstone, then removed with one
-- LREM; a tombstone starts with a zero byte, which no encoded WalletMessage does (tag 0).
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
