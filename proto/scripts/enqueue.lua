-- Append one envelope to a work stream, at most once per dedup key, refusing
-- when the backlog has reached its high-water mark.
-- KEYS[1] stream; KEYS[2] (optional) seen-marker key in the same slot
-- ARGV[1] entry field; ARGV[2] encoded envelope; ARGV[3] high-water mark (0 = none)
-- ARGV[4] seen-marker TTL in ms
-- Returns {"OK", id} | {"DUP", ""} | {"BUSY", backlog}
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
local id = redis.call("XADD", stream, "*", ARGV[1], ARGV[2])
if seen then
  redis.call("SET", seen, "1", "PX", ARGV[4])
end
return {"OK", id}
