-- Reads a stored WalletRoute (protobuf): relay_id is field 1, socket_id field 2, epoch field 3
-- (varint). Returns relay, socket ("" when absent), the first epoch (nil when absent) and
-- whether the bytes parsed; it stops at an unknown wire type and keeps what it read before.
local function wallet_route(buf)
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
  local relay, socket, epoch = "", "", nil
  while i <= n do
    local tag = varint()
    local field, wire = math.floor(tag / 8), tag % 8
    if wire == 0 then
      local v = varint()
      if field == 3 and epoch == nil then epoch = v end
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
      return relay, socket, epoch, false
    end
  end
  return relay, socket, epoch, true
end
