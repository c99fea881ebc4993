-- Acknowledges and deletes the entry ids ARGV[first_id..] of `stream`; returns how many were acknowledged.
-- In chunks: unpack() fails ("too many results to unpack") past Lua's stack limit
-- (about 8000 values), and a batch that can never succeed would be retried forever.
local function chunked_ack(stream, group, first_id)
  local chunk = 1000
  local acked = 0
  for first = first_id, #ARGV, chunk do
    local last = math.min(first + chunk - 1, #ARGV)
    acked = acked + redis.call("XACK", stream, group, unpack(ARGV, first, last))
    redis.call("XDEL", stream, unpack(ARGV, first, last))
  end
  return acked
end
