-- Appends a dead letter to its stream, capped approximately at `cap` entries (0 = no cap);
-- returns the dead letter's entry id.
local function add_dead_letter(dead_letters, cap, field, letter)
  if tonumber(cap) > 0 then
    return redis.call("XADD", dead_letters, "MAXLEN", "~", tonumber(cap), "*", field, letter)
  end
  return redis.call("XADD", dead_letters, "*", field, letter)
end
