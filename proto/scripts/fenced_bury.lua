-- Move one pending stream entry to the dead-letter stream, only while the
-- caller holds the partition's lease (the dead letter is written first).
--! key lease
--! key stream
--! key dead_letters  dead-letter stream (same slot)
--! arg owner string  lease owner value
--! arg group string  consumer group
--! arg entry_id string
--! arg entry_field string
--! arg dead_letter bytes  encoded DeadLetter
--! arg cap int  dead-letter stream cap (0 = none)
--! reply OK dead_letter_id:string
--! reply FENCED
--! include bury_entry
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return {"FENCED"}
end
return {"OK", bury_entry(KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])}
