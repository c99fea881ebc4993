--! include dead_letter
-- Moves one pending stream entry to the dead-letter stream: the dead letter is written
-- before the entry is acknowledged and deleted. Returns the dead letter's entry id.
local function bury_entry(stream, dead_letters, group, entry_id, field, letter, cap)
  local id = add_dead_letter(dead_letters, cap, field, letter)
  redis.call("XACK", stream, group, entry_id)
  redis.call("XDEL", stream, entry_id)
  return id
end
