-- Several writes of one process in one call, applied in order, each as its own
-- script would (enqueue, an event-stream append, a PUBLISH of a command without
-- a body to its relay's channel, ack): the shim's writes for one or more inbound messages
-- (outbound jobs, webhook jobs, events, the direct "no response" answer, the
-- acknowledgement) cost one round trip. It stops at the first enqueue whose
-- partition is full: what came before it is applied, nothing after it, so an
-- acknowledgement placed after a message's writes is applied only with them.
-- Keys may lie in different hash slots: standalone Redis only (a Cluster
-- client makes the same writes one call each).
--! key keys...  every key the writes name, referenced by 1-based index
--! arg ops bytes...  op code then its fields: enqueue stream_i seen_i(0=none) field envelope high_water_mark seen_ttl_ms | append stream_i field envelope max_length(0=none) | signal channel command | ack stream_i group count id...
--! reply OK gone:int  all applied; gone = signals no relay subscribed to
--! reply BUSY at:int backlog:int  ops before index `at` (0-based) applied, none from it on
--! include enqueue_once
local i = 1
local op = 0
local gone = 0
while i <= #ARGV do
  local code = ARGV[i]
  if code == "enqueue" then
    local seen_index = tonumber(ARGV[i + 2])
    local seen = seen_index > 0 and KEYS[seen_index] or nil
    local id, backlog = enqueue_once(
      KEYS[tonumber(ARGV[i + 1])], seen, ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6]
    )
    if id == nil then
      return {"BUSY", op, backlog}
    end
    i = i + 7
  elseif code == "append" then
    local stream = KEYS[tonumber(ARGV[i + 1])]
    if tonumber(ARGV[i + 4]) > 0 then
      redis.call("XADD", stream, "MAXLEN", "~", ARGV[i + 4], "*", ARGV[i + 2], ARGV[i + 3])
    else
      redis.call("XADD", stream, "*", ARGV[i + 2], ARGV[i + 3])
    end
    i = i + 5
  elseif code == "signal" then
    -- Not stored (relay_signals): without a subscriber (the relay gone) it is dropped, as it carries nothing.
    if redis.call("PUBLISH", ARGV[i + 1], ARGV[i + 2]) == 0 then
      gone = gone + 1
    end
    i = i + 3
  elseif code == "ack" then
    local stream = KEYS[tonumber(ARGV[i + 1])]
    local count = tonumber(ARGV[i + 3])
    local first = i + 4
    local last = first + count - 1
    -- In chunks: unpack() fails past Lua's stack limit.
    for from = first, last, 1000 do
      local to = math.min(from + 999, last)
      redis.call("XACK", stream, ARGV[i + 2], unpack(ARGV, from, to))
      redis.call("XDEL", stream, unpack(ARGV, from, to))
    end
    i = last + 1
  else
    return redis.error_reply("write_batch: unknown op " .. tostring(code))
  end
  op = op + 1
end
return {"OK", gone}
