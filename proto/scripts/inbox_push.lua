-- Append a command to a relay's inbox only while the inbox exists (the relay
-- creates it with its consumer group at start; the janitor deletes it once a
-- dead relay's inbox is empty), so nothing is written where no one reads.
--! key inbox  relay inbox
--! arg entry_field string
--! arg command bytes  encoded RelayCommand
--! reply OK entry_id:string
--! reply GONE blank:string
-- NOMKSTREAM: one command where EXISTS then XADD took two (nil when the inbox is gone).
local id = redis.call("XADD", KEYS[1], "NOMKSTREAM", "*", ARGV[1], ARGV[2])
if not id then
  return {"GONE", ""}
end
return {"OK", id}
