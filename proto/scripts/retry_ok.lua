-- The head of a park list was delivered: drop it; the next one (if any) is due at once.
--! key lease
--! key park  park list
--! key retry  retry schedule (same slot)
--! arg owner string  lease owner value
--! arg recipient string  recipient key
--! arg now_ms int
--! arg head_digest string?  SHA-1 (hex) of the head the caller delivered; absent when it found the list empty
--! reply NEXT removed:int  more parked, due now
--! reply EMPTY removed:int
--! reply FENCED
--! include schedule_next
-- removed is 1 when this call dropped the head, 0 when the head was no longer the delivered one.
-- The head is dropped only while it is still the delivered one: a client may send this call
-- again after a lost connection although Redis ran it, and a second blind pop would drop the
-- next job undelivered. A digest rather than the bytes: a parked job can carry a large message.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local removed = 0
local head = redis.call("LINDEX", KEYS[2], 0)
if head and ARGV[4] and redis.sha1hex(head) == ARGV[4] then
  redis.call("LPOP", KEYS[2])
  removed = 1
end
return {schedule_next(KEYS[2], KEYS[3], ARGV[3], ARGV[2]), removed}
