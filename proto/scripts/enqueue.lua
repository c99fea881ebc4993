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
--! include enqueue_entry
local stream = KEYS[1]
local seen = KEYS[2]
if seen and redis.call("EXISTS", seen) == 1 then
  return {"DUP", ""}
end
local hwm = tonumber(ARGV[3])
if hwm > 0 then
  local backlog = redis.call("XLEN", stream)
  if backlog >= hwm then
    return {"BUSY", tostring(backlog)}
  end
end
return {"OK", append_entry(stream, seen, ARGV[1], ARGV[2], ARGV[4])}
