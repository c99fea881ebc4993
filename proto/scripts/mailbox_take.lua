-- Remove the first ARGV[2] messages of a mailbox after they were handed on,
-- only if its head is still ARGV[1] (another drain may have taken them: then
-- nothing is removed and the caller only sent duplicates, never lost any).
--! key mailbox  wallet mailbox
--! arg head bytes  the head as read
--! arg count int
--! returns int  the remaining depth, or -1 if the head changed
local head = redis.call("LINDEX", KEYS[1], 0)
if head ~= ARGV[1] then return -1 end
redis.call("LTRIM", KEYS[1], tonumber(ARGV[2]), -1)
return redis.call("LLEN", KEYS[1])
