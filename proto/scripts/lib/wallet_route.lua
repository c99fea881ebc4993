--! include protobuf_fields
-- Reads a stored WalletRoute: relay_id is field 1, socket_id field 2, epoch field 3 (varint).
-- Returns relay, socket ("" when absent), the first epoch (nil when absent) and whether the
-- bytes parsed; it stops at an unknown wire type and keeps what it read before.
local function wallet_route(buf)
  local relay, socket, epoch = "", "", nil
  local parsed = scan_fields(buf, function(field, wire, a, b)
    if wire == 0 and field == 3 and epoch == nil then
      epoch = a
    elseif wire == 2 and field == 1 then
      relay = string.sub(buf, a, a + b - 1)
    elseif wire == 2 and field == 2 then
      socket = string.sub(buf, a, a + b - 1)
    end
  end)
  return relay, socket, epoch, parsed
end
