-- Appends one envelope to a work stream, at most once per dedup key (when given), refusing when the
-- backlog has reached its high-water mark (0 = none). The marker comes first, in one command (SET NX):
-- it both finds a retried write and marks this one; a refusal takes it back. (Once a script wrote,
-- Redis lets it finish its writes even past maxmemory.)
-- Returns the entry id; false for a duplicate; or nil and the backlog when refused.
local function enqueue_once(stream, seen, entry_field, envelope, high_water_mark, seen_ttl_ms)
  if seen and not redis.call("SET", seen, "1", "NX", "PX", seen_ttl_ms) then
    return false
  end
  if high_water_mark > 0 then
    local backlog = redis.call("XLEN", stream)
    if backlog >= high_water_mark then
      if seen then
        redis.call("DEL", seen)
      end
      return nil, backlog
    end
  end
  return redis.call("XADD", stream, "*", entry_field, envelope)
end
