-- Delete a wallet's route only if it still points at this relay's socket
-- (compare-and-delete: a newer session elsewhere is left alone).
--! key route  wallet route key
--! arg relay_id string
--! arg socket_id string
--! returns int  1 if deleted, 0 otherwise
--! include wallet_route
local buf = redis.call("GET", KEYS[1])
if not buf then return 0 end
local relay, socket, _, parsed = wallet_route(buf)
if not parsed then return 0 end
if relay == ARGV[1] and socket == ARGV[2] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
