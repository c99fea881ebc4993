-- Message Pickup 2.0: claim mailbox messages for one wallet session before sending them to it
-- (a live `delivery`, or a `delivery` answering a `delivery-request`). Whichever instance
-- claims a message first sends it; every other path that wants to send it to the same session
-- (another instance's live push or `delivery`) gets "0" and leaves it out. A claim lasts until
-- `pickup_ack` removes the message, or until another session (another epoch) claims it.
--! key mailbox  wallet mailbox
--! key sent  the wallet's `wallet_pickup_sent` hash (same {w:...} slot): mid -> epoch of the session it went to
--! arg epoch string  the session's epoch, as the hash stores it
--! arg ttl_ms int  the hash's TTL
--! arg from_tail string  "1": scan from the tail (a message just appended), "0": from the head (the oldest)
--! arg mids string...  the messages the caller would send
--! returns string  one character per mid, in order: "1" claimed by this call; "0" already claimed for this session, or no longer in the mailbox (acknowledged)
--! include wallet_message_mid
-- A message must still be in the mailbox: one the wallet acknowledged meanwhile (its claim
-- removed with it by `pickup_ack`) would otherwise be claimed and sent again. The scan reads
-- pages and stops once every wanted mid was found.
local epoch, ttl, from_tail = ARGV[1], ARGV[2], ARGV[3] == "1"
local wanted, missing = {}, 0
for i = 4, #ARGV do
  local mid = ARGV[i]
  if not wanted[mid] and redis.call("HGET", KEYS[2], mid) ~= epoch then
    wanted[mid] = true
    missing = missing + 1
  end
end
local found = {}
local page, start = 256, 0
while missing > 0 do
  local items
  if from_tail then
    items = redis.call("LRANGE", KEYS[1], -(start + page), -(start + 1))
  else
    items = redis.call("LRANGE", KEYS[1], start, start + page - 1)
  end
  if #items == 0 then break end
  for _, item in ipairs(items) do
    local mid = mid_of(item)
    if mid and wanted[mid] and not found[mid] then
      found[mid] = true
      missing = missing - 1
    end
  end
  start = start + page
end
local claimed, any = {}, false
for i = 4, #ARGV do
  local mid = ARGV[i]
  if found[mid] then
    redis.call("HSET", KEYS[2], mid, epoch)
    found[mid] = nil
    any = true
    claimed[#claimed + 1] = "1"
  else
    claimed[#claimed + 1] = "0"
  end
end
if any then redis.call("PEXPIRE", KEYS[2], ttl) end
return table.concat(claimed)
