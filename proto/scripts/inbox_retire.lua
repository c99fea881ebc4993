-- Delete a dead relay's inbox only if it is empty, in one step: a command that
-- inbox_push appended after the janitor's last read keeps the inbox (and is
-- handed on in the next round) instead of being deleted with it.
--! key inbox  relay inbox
--! returns int  1 if the inbox is gone, 0 if it still holds entries
if redis.call("XLEN", KEYS[1]) > 0 then
  return 0
end
redis.call("DEL", KEYS[1])
return 1
