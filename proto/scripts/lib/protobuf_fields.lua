-- Walks the top-level fields of an encoded protobuf message: visit(field, wire, a, b) gets a
-- varint's value (wire 0: a) or a length-delimited field's start and length (wire 2: a, b;
-- the caller cuts out only the fields it wants). A visit that returns true ends the walk.
-- Returns false at an unknown wire type, true otherwise.
local function scan_fields(buf, visit)
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
  while i <= n do
    local tag = varint()
    local field, wire = math.floor(tag / 8), tag % 8
    if wire == 0 then
      if visit(field, 0, varint()) then return true end
    elseif wire == 2 then
      local len = varint()
      if visit(field, 2, i, len) then return true end
      i = i + len
    elseif wire == 1 then
      i = i + 8
    elseif wire == 5 then
      i = i + 4
    else
      return false
    end
  end
  return true
end
