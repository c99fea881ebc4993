-- Give up the head of a park list: the dead letter is written before the head
-- is removed; the next parked job (if any) is due at once.
--! key lease
--! key park  park list
--! key retry  retry schedule
--! key dead_letters  dead-letter stream (same slot)
--! arg owner string  lease owner value
--! arg recipient string  recipient key
--! arg now_ms int
--! arg entry_field string
--! arg dead_letter bytes  encoded DeadLetter
--! arg cap int  dead-letter stream cap (0 = none)
--! arg head_digest string  SHA-1 (hex) of the head the caller gives up
--! reply NEXT dead_letter_id:string  more parked, due now
--! reply EMPTY dead_letter_id:string
-- The dead letter id is "" when the head was no longer the given one (nothing written).
--! reply FENCED
--! include schedule_next
--! include dead_letter
-- Only the given head is buried: a client may send this call again after a lost connection
-- although Redis ran it, and a second blind run would write a second dead letter and drop
-- the next job undelivered.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
local id = ""
local head = redis.call("LINDEX", KEYS[2], 0)
if head and redis.sha1hex(head) == ARGV[7] then
  id = add_dead_letter(KEYS[4], ARGV[6], ARGV[4], ARGV[5])
  redis.call("LPOP", KEYS[2])
end
return {schedule_next(KEYS[2], KEYS[3], ARGV[3], ARGV[2]), id}
