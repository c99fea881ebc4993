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
local stream = KEYS[1]
local seen = KEYS[2]
-- The marker first, in one command (SET NX): it both finds a retried write and marks this one;
-- a refusal takes it back. (Once a script wrote, Redis lets it finish its writes even past maxmemory.)
if seen and not redis.call("SET", seen, "1", "NX", "PX", ARGV[4]) then
  return {"DUP", ""}
end
local hwm = tonumber(ARGV[3])
if hwm > 0 then
  local backlog = redis.call("XLEN", stream)
  if backlog >= hwm then
    if seen then
      redis.call("DEL", seen)
    end
    return {"BUSY", tostring(backlog)}
  end
end
return {"OK", redis.call("XADD", stream, "*", ARGV[1], ARGV[2])}
