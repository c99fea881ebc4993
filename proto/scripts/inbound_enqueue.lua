-- Append one inbound message to its partition, at most once per dedup key, refusing when
-- the partition's backlog has reached its high-water mark in entries or in bytes, or when
-- the partition is filling (at half of either mark) and this recipient key had recipient_cap
-- messages accepted in its current window: one key cannot fill a partition for the others.
--! key stream
--! key recipient_count  the recipient's count in the same slot
--! key seen?  seen marker in the same slot (no dedup without it)
--! arg entry_field string
--! arg envelope bytes
--! arg high_water_mark int  entries; 0 = none
--! arg high_water_bytes int  the stream's memory (MEMORY USAGE, sampled, once it holds entries); 0 = none
--! arg recipient_cap int  0 = none
--! arg recipient_window_ms int
--! arg seen_ttl_ms int
--! reply OK entry_id:string
--! reply DUP blank:string
--! reply BUSY backlog:string
--! reply BUSY_BYTES bytes:string
--! reply BUSY_RECIPIENT accepted:string
local stream = KEYS[1]
local recipient_count = KEYS[2]
local seen = KEYS[3]
-- The marker first, in one command (SET NX): it both finds a resend and marks this one; a refusal
-- takes it back. (Once a script wrote, Redis lets it finish its writes even past maxmemory.)
if seen and not redis.call("SET", seen, "1", "NX", "PX", ARGV[7]) then
  return {"DUP", ""}
end
local function refuse(status, detail)
  if seen then
    redis.call("DEL", seen)
  end
  return {status, tostring(detail)}
end
local hwm = tonumber(ARGV[3])
local hwb = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
local filling = false
local backlog = nil
if hwm > 0 then
  backlog = redis.call("XLEN", stream)
  if backlog >= hwm then
    return refuse("BUSY", backlog)
  end
  filling = backlog * 2 >= hwm
end
if hwb > 0 then
  -- An empty partition holds no message bytes (what MEMORY USAGE reports then is the stream's
  -- own overhead): measured only once it holds entries, which spares a trickle the command.
  backlog = backlog or redis.call("XLEN", stream)
  if backlog > 0 then
    -- Sampled (5 nodes of the stream's radix tree): cheap, and within a few percent.
    local bytes = redis.call("MEMORY", "USAGE", stream) or 0
    if bytes >= hwb then
      return refuse("BUSY_BYTES", bytes)
    end
    filling = filling or bytes * 2 >= hwb
  end
end
if cap > 0 then
  -- Counted first (one command instead of GET then INCR); a refused message is taken off again.
  local accepted = redis.call("INCR", recipient_count)
  if accepted == 1 then
    redis.call("PEXPIRE", recipient_count, ARGV[6])
  end
  if filling and accepted > cap then
    redis.call("DECR", recipient_count)
    return refuse("BUSY_RECIPIENT", accepted - 1)
  end
end
return {"OK", redis.call("XADD", stream, "*", ARGV[1], ARGV[2])}
