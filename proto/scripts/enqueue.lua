-- Append one envelope to a work stream, at most once per dedup key, refusing
-- when the backlog has reached its high-water mark.
--! key stream
--! key seen?  seen marker in the same slot (no dedup without it)
--! arg entry_field string
--! arg envelope bytes
--! arg high_water_mark int  0 = none
--! arg seen_ttl_ms int
--! reply OK entry_id:string
--! reply DUP blank:string
--! reply BUSY backlog:string
--! include enqueue_once
local id, backlog = enqueue_once(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])
if id == false then
  return {"DUP", ""}
end
if id == nil then
  return {"BUSY", tostring(backlog)}
end
return {"OK", id}
