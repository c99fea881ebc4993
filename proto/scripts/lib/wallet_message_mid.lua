--! include protobuf_fields
-- The mid of an encoded WalletMessage (field 1, length-delimited); nil if it has none.
local function mid_of(buf)
  local mid
  scan_fields(buf, function(field, wire, a, b)
    if field == 1 and wire == 2 then
      mid = string.sub(buf, a, a + b - 1)
      return true
    end
  end)
  return mid
end
