-- Delete a wallet's route only if it still points at this relay's socket
-- (compare-and-delete: a newer session elsewhere is left alone).
--! key route  wallet route key
--! arg relay_id string
--! arg socket_id string
--! returns int  1 if deleted, 0 otherwise
-- The stored value is a WalletRoute: relay_id is field 1, socket_id field 2.
local buf = redis.call("GET", KEYS[1])
if not buf then return 0 end
local i, n = 1, #buf
local function varint()
  local value, mult = 0, 1
  while i <= n do
    local b = string.byte(buf, i)
    i = i + 1
    value = value + (b % 128) * mult
    if b < 128 then return value end
    mult = mult * 128
  end
  return value
end
local relay, socket = "", ""
while i <= n do
  local tag = varint()
  local field, wire = math.floor(tag / 8), tag % 8
  if wire == 0 then
    varint()
  elseif wire == 2 then
    local len = varint()
    local s = string.sub(buf, i, i + len - 1)
    i = i + len
    if field == 1 then relay = s elseif field == 2 then socket = s end
  elseif wire == 1 then
    i = i + 8
  elseif wire == 5 then
    i = i + 4
  else
    return 0
  end
end
if relay == ARGV[1] and socket == ARGV[2] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
