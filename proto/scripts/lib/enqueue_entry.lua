-- Appends one envelope to a work stream and marks its dedup key (when given) for seen_ttl_ms.
local function append_entry(stream, seen, entry_field, envelope, seen_ttl_ms)
  local id = redis.call("XADD", stream, "*", entry_field, envelope)
  if seen then
    redis.call("SET", seen, "1", "PX", seen_ttl_ms)
  end
  return id
end
