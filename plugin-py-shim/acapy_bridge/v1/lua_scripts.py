"""Generated from proto/scripts/*.lua (their `--!` headers) by scripts/gen.mjs. Do not edit."""

from collections.abc import Sequence
from typing import Literal, TypeAlias

ScriptValue: TypeAlias = str | int | bytes

LUA_SCRIPTS: dict[str, str] = {
    "ack": "-- Acknowledge entries and delete them, so that XLEN stays equal to the\n-- backlog (acknowledged entries are never needed again).\n--! key stream\n--! arg group string  consumer group\n--! arg ids string...  entry ids\n--! returns int  the number of entries acknowledged\n-- Acknowledges and deletes the entry ids ARGV[first_id..] of `stream`; returns how many were acknowledged.\n-- In chunks: unpack() fails (\"too many results to unpack\") past Lua's stack limit\n-- (about 8000 values), and a batch that can never succeed would be retried forever.\nlocal function chunked_ack(stream, group, first_id)\n  local chunk = 1000\n  local acked = 0\n  for first = first_id, #ARGV, chunk do\n    local last = math.min(first + chunk - 1, #ARGV)\n    acked = acked + redis.call(\"XACK\", stream, group, unpack(ARGV, first, last))\n    redis.call(\"XDEL\", stream, unpack(ARGV, first, last))\n  end\n  return acked\nend\nreturn chunked_ack(KEYS[1], ARGV[1], 2)\n",
    "admin_claim": "-- Decide who an admin request belongs to: the shim that would run it, or its requester giving\n-- up on it. The first claim of the request's mid wins; later ones (a second shim, a shim after\n-- the requester gave up, a duplicate entry of a retried XADD) lose. The entry is deleted either\n-- way: nobody reads it again.\n--! key stream  the admin partition (admin_requests)\n--! key claim  the request's admin_claims marker\n--! arg entry_id string  the entry's id\n--! arg claimant string  \"run\" (a shim) or \"withdraw\" (its requester)\n--! arg ttl_ms int  how long the claim is remembered\n--! returns int  1 if this claim won (run it / it was never run), 0 if another claim was first\nredis.call(\"XDEL\", KEYS[1], ARGV[1])\nif redis.call(\"SET\", KEYS[2], ARGV[2], \"NX\", \"PX\", ARGV[3]) then\n  return 1\nend\nreturn 0\n",
    "admit": "-- Let a stream entry through, or queue it behind its recipient's parked jobs\n-- so that one recipient's messages keep their order while it is in backoff.\n--! key lease\n--! key stream\n--! key park  the recipient's park list (same slot)\n--! arg owner string  lease owner value\n--! arg group string  consumer group\n--! arg entry_id string\n--! arg parked_job bytes  encoded ParkedJob\n--! reply GO\n--! reply PARKED  appended, entry acknowledged and deleted\n--! reply FENCED\n-- Idempotent: the job is appended only if XACK finds the entry still pending, so a\n-- call resent after a lost connection (Redis ran it, the reply was lost) answers\n-- {\"PARKED\"} again without parking the job a second time.\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nif redis.call(\"EXISTS\", KEYS[3]) == 0 then\n  return {\"GO\"}\nend\nif redis.call(\"XACK\", KEYS[2], ARGV[2], ARGV[3]) == 1 then\n  redis.call(\"RPUSH\", KEYS[3], ARGV[4])\nend\nredis.call(\"XDEL\", KEYS[2], ARGV[3])\nreturn {\"PARKED\"}\n",
    "bury": "-- Move one pending entry to its partition's dead-letter stream: the dead\n-- letter is written before the entry is acknowledged and deleted.\n--! key stream\n--! key dead_letters  dead-letter stream (same slot)\n--! arg group string  consumer group\n--! arg entry_id string\n--! arg entry_field string\n--! arg dead_letter bytes  encoded DeadLetter\n--! arg cap int  dead-letter stream cap (0 = none)\n--! returns string  the dead-letter entry id\n-- Appends a dead letter to its stream, capped approximately at `cap` entries (0 = no cap);\n-- returns the dead letter's entry id.\nlocal function add_dead_letter(dead_letters, cap, field, letter)\n  if tonumber(cap) > 0 then\n    return redis.call(\"XADD\", dead_letters, \"MAXLEN\", \"~\", tonumber(cap), \"*\", field, letter)\n  end\n  return redis.call(\"XADD\", dead_letters, \"*\", field, letter)\nend\n-- Moves one pending stream entry to the dead-letter stream: the dead letter is written\n-- before the entry is acknowledged and deleted. Returns the dead letter's entry id.\nlocal function bury_entry(stream, dead_letters, group, entry_id, field, letter, cap)\n  local id = add_dead_letter(dead_letters, cap, field, letter)\n  redis.call(\"XACK\", stream, group, entry_id)\n  redis.call(\"XDEL\", stream, entry_id)\n  return id\nend\nreturn bury_entry(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])\n",
    "bury_parked": "-- Give up the head of a park list: the dead letter is written before the head\n-- is removed; the next parked job (if any) is due at once.\n--! key lease\n--! key park  park list\n--! key retry  retry schedule\n--! key dead_letters  dead-letter stream (same slot)\n--! arg owner string  lease owner value\n--! arg recipient string  recipient key\n--! arg now_ms int\n--! arg entry_field string\n--! arg dead_letter bytes  encoded DeadLetter\n--! arg cap int  dead-letter stream cap (0 = none)\n--! arg head_digest string  SHA-1 (hex) of the head the caller gives up\n--! reply NEXT dead_letter_id:string  more parked, due now\n--! reply EMPTY dead_letter_id:string\n-- The dead letter id is \"\" when the head was no longer the given one (nothing written).\n--! reply FENCED\n-- The head of a park list is settled: the next parked job (if any) is due at `now`; an empty\n-- list leaves the retry schedule. Returns \"NEXT\" or \"EMPTY\".\nlocal function schedule_next(park, retry, now, recipient)\n  if redis.call(\"LLEN\", park) > 0 then\n    redis.call(\"ZADD\", retry, now, recipient)\n    return \"NEXT\"\n  end\n  redis.call(\"ZREM\", retry, recipient)\n  return \"EMPTY\"\nend\n-- Appends a dead letter to its stream, capped approximately at `cap` entries (0 = no cap);\n-- returns the dead letter's entry id.\nlocal function add_dead_letter(dead_letters, cap, field, letter)\n  if tonumber(cap) > 0 then\n    return redis.call(\"XADD\", dead_letters, \"MAXLEN\", \"~\", tonumber(cap), \"*\", field, letter)\n  end\n  return redis.call(\"XADD\", dead_letters, \"*\", field, letter)\nend\n-- Only the given head is buried: a client may send this call again after a lost connection\n-- although Redis ran it, and a second blind run would write a second dead letter and drop\n-- the next job undelivered.\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nlocal id = \"\"\nlocal head = redis.call(\"LINDEX\", KEYS[2], 0)\nif head and redis.sha1hex(head) == ARGV[7] then\n  id = add_dead_letter(KEYS[4], ARGV[6], ARGV[4], ARGV[5])\n  redis.call(\"LPOP\", KEYS[2])\nend\nreturn {schedule_next(KEYS[2], KEYS[3], ARGV[3], ARGV[2]), id}\n",
    "defer": "-- First transient failure of a stream entry: it becomes the head of its\n-- recipient's park list and the recipient is scheduled for a retry.\n--! key lease\n--! key stream\n--! key park  park list\n--! key retry  retry schedule (same slot)\n--! arg owner string  lease owner value\n--! arg group string  consumer group\n--! arg entry_id string\n--! arg parked_job bytes  encoded ParkedJob\n--! arg due_ms int\n--! arg recipient string  recipient key\n--! reply OK\n--! reply FENCED\n-- Idempotent: the job is parked and scheduled only if XACK finds the entry still\n-- pending, so a call resent after a lost connection (Redis ran it, the reply was\n-- lost) answers {\"OK\"} again without parking the job a second time; the first\n-- run's schedule stands.\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nif redis.call(\"XACK\", KEYS[2], ARGV[2], ARGV[3]) == 1 then\n  redis.call(\"LPUSH\", KEYS[3], ARGV[4])\n  redis.call(\"ZADD\", KEYS[4], ARGV[5], ARGV[6])\nend\nredis.call(\"XDEL\", KEYS[2], ARGV[3])\nreturn {\"OK\"}\n",
    "enqueue": "-- Append one envelope to a work stream, at most once per dedup key, refusing\n-- when the backlog has reached its high-water mark.\n--! key stream\n--! key seen?  seen marker in the same slot (no dedup without it)\n--! arg entry_field string\n--! arg envelope bytes\n--! arg high_water_mark int  0 = none\n--! arg seen_ttl_ms int\n--! reply OK entry_id:string\n--! reply DUP blank:string\n--! reply BUSY backlog:string\n-- Appends one envelope to a work stream, at most once per dedup key (when given), refusing when the\n-- backlog has reached its high-water mark (0 = none). The marker comes first, in one command (SET NX):\n-- it both finds a retried write and marks this one; a refusal takes it back. (Once a script wrote,\n-- Redis lets it finish its writes even past maxmemory.)\n-- Returns the entry id; false for a duplicate; or nil and the backlog when refused.\nlocal function enqueue_once(stream, seen, entry_field, envelope, high_water_mark, seen_ttl_ms)\n  if seen and not redis.call(\"SET\", seen, \"1\", \"NX\", \"PX\", seen_ttl_ms) then\n    return false\n  end\n  if high_water_mark > 0 then\n    local backlog = redis.call(\"XLEN\", stream)\n    if backlog >= high_water_mark then\n      if seen then\n        redis.call(\"DEL\", seen)\n      end\n      return nil, backlog\n    end\n  end\n  return redis.call(\"XADD\", stream, \"*\", entry_field, envelope)\nend\nlocal id, backlog = enqueue_once(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])\nif id == false then\n  return {\"DUP\", \"\"}\nend\nif id == nil then\n  return {\"BUSY\", tostring(backlog)}\nend\nreturn {\"OK\", id}\n",
    "fenced_ack": "-- Acknowledge and delete delivered entries, only while the caller holds the partition's lease.\n--! key lease\n--! key stream  same slot\n--! arg owner string  lease owner value\n--! arg group string  consumer group\n--! arg ids string...  entry ids\n--! reply OK acked:int\n--! reply FENCED\n-- Acknowledges and deletes the entry ids ARGV[first_id..] of `stream`; returns how many were acknowledged.\n-- In chunks: unpack() fails (\"too many results to unpack\") past Lua's stack limit\n-- (about 8000 values), and a batch that can never succeed would be retried forever.\nlocal function chunked_ack(stream, group, first_id)\n  local chunk = 1000\n  local acked = 0\n  for first = first_id, #ARGV, chunk do\n    local last = math.min(first + chunk - 1, #ARGV)\n    acked = acked + redis.call(\"XACK\", stream, group, unpack(ARGV, first, last))\n    redis.call(\"XDEL\", stream, unpack(ARGV, first, last))\n  end\n  return acked\nend\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nreturn {\"OK\", chunked_ack(KEYS[2], ARGV[2], 3)}\n",
    "fenced_bury": "-- Move one pending stream entry to the dead-letter stream, only while the\n-- caller holds the partition's lease (the dead letter is written first).\n--! key lease\n--! key stream\n--! key dead_letters  dead-letter stream (same slot)\n--! arg owner string  lease owner value\n--! arg group string  consumer group\n--! arg entry_id string\n--! arg entry_field string\n--! arg dead_letter bytes  encoded DeadLetter\n--! arg cap int  dead-letter stream cap (0 = none)\n--! reply OK dead_letter_id:string\n--! reply FENCED\n-- Appends a dead letter to its stream, capped approximately at `cap` entries (0 = no cap);\n-- returns the dead letter's entry id.\nlocal function add_dead_letter(dead_letters, cap, field, letter)\n  if tonumber(cap) > 0 then\n    return redis.call(\"XADD\", dead_letters, \"MAXLEN\", \"~\", tonumber(cap), \"*\", field, letter)\n  end\n  return redis.call(\"XADD\", dead_letters, \"*\", field, letter)\nend\n-- Moves one pending stream entry to the dead-letter stream: the dead letter is written\n-- before the entry is acknowledged and deleted. Returns the dead letter's entry id.\nlocal function bury_entry(stream, dead_letters, group, entry_id, field, letter, cap)\n  local id = add_dead_letter(dead_letters, cap, field, letter)\n  redis.call(\"XACK\", stream, group, entry_id)\n  redis.call(\"XDEL\", stream, entry_id)\n  return id\nend\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nreturn {\"OK\", bury_entry(KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])}\n",
    "inbound_enqueue": "-- Append one inbound message to its partition, at most once per dedup key, refusing when\n-- the partition's backlog has reached its high-water mark in entries or in bytes, or when\n-- the partition is filling (at half of either mark) and this recipient key had recipient_cap\n-- messages accepted in its current window: one key cannot fill a partition for the others.\n--! key stream\n--! key recipient_count  the recipient's count in the same slot\n--! key seen?  seen marker in the same slot (no dedup without it)\n--! arg entry_field string\n--! arg envelope bytes\n--! arg high_water_mark int  entries; 0 = none\n--! arg high_water_bytes int  the stream's memory (MEMORY USAGE, sampled, once it holds entries); 0 = none\n--! arg recipient_cap int  0 = none\n--! arg recipient_window_ms int\n--! arg seen_ttl_ms int\n--! reply OK entry_id:string\n--! reply DUP blank:string\n--! reply BUSY backlog:string\n--! reply BUSY_BYTES bytes:string\n--! reply BUSY_RECIPIENT accepted:string\nlocal stream = KEYS[1]\nlocal recipient_count = KEYS[2]\nlocal seen = KEYS[3]\n-- The marker first, in one command (SET NX): it both finds a resend and marks this one; a refusal\n-- takes it back. (Once a script wrote, Redis lets it finish its writes even past maxmemory.)\nif seen and not redis.call(\"SET\", seen, \"1\", \"NX\", \"PX\", ARGV[7]) then\n  return {\"DUP\", \"\"}\nend\nlocal function refuse(status, detail)\n  if seen then\n    redis.call(\"DEL\", seen)\n  end\n  return {status, tostring(detail)}\nend\nlocal hwm = tonumber(ARGV[3])\nlocal hwb = tonumber(ARGV[4])\nlocal cap = tonumber(ARGV[5])\nlocal filling = false\nlocal backlog = nil\nif hwm > 0 then\n  backlog = redis.call(\"XLEN\", stream)\n  if backlog >= hwm then\n    return refuse(\"BUSY\", backlog)\n  end\n  filling = backlog * 2 >= hwm\nend\nif hwb > 0 then\n  -- An empty partition holds no message bytes (what MEMORY USAGE reports then is the stream's\n  -- own overhead): measured only once it holds entries, which spares a trickle the command.\n  backlog = backlog or redis.call(\"XLEN\", stream)\n  if backlog > 0 then\n    -- Sampled (5 nodes of the stream's radix tree): cheap, and within a few percent.\n    local bytes = redis.call(\"MEMORY\", \"USAGE\", stream) or 0\n    if bytes >= hwb then\n      return refuse(\"BUSY_BYTES\", bytes)\n    end\n    filling = filling or bytes * 2 >= hwb\n  end\nend\nif cap > 0 then\n  -- Counted first (one command instead of GET then INCR); a refused message is taken off again.\n  local accepted = redis.call(\"INCR\", recipient_count)\n  if accepted == 1 then\n    redis.call(\"PEXPIRE\", recipient_count, ARGV[6])\n  end\n  if filling and accepted > cap then\n    redis.call(\"DECR\", recipient_count)\n    return refuse(\"BUSY_RECIPIENT\", accepted - 1)\n  end\nend\nreturn {\"OK\", redis.call(\"XADD\", stream, \"*\", ARGV[1], ARGV[2])}\n",
    "inbox_push": "-- Append a command to a relay's inbox only while the inbox exists (the relay\n-- creates it with its consumer group at start; the janitor deletes it once a\n-- dead relay's inbox is empty), so nothing is written where no one reads.\n--! key inbox  relay inbox\n--! arg entry_field string\n--! arg command bytes  encoded RelayCommand\n--! reply OK entry_id:string\n--! reply GONE blank:string\n-- NOMKSTREAM: one command where EXISTS then XADD took two (nil when the inbox is gone).\nlocal id = redis.call(\"XADD\", KEYS[1], \"NOMKSTREAM\", \"*\", ARGV[1], ARGV[2])\nif not id then\n  return {\"GONE\", \"\"}\nend\nreturn {\"OK\", id}\n",
    "inbox_retire": "-- Delete a dead relay's inbox only if it is empty, in one step: a command that\n-- inbox_push appended after the janitor's last read keeps the inbox (and is\n-- handed on in the next round) instead of being deleted with it.\n--! key inbox  relay inbox\n--! returns int  1 if the inbox is gone, 0 if it still holds entries\nif redis.call(\"XLEN\", KEYS[1]) > 0 then\n  return 0\nend\nredis.call(\"DEL\", KEYS[1])\nreturn 1\n",
    "lease_acquire": "-- Take (or keep) the single-owner lease of a partition.\n--! key lease\n--! arg owner string  \"<instance id>:<token>\"\n--! arg ttl_ms int\n--! reply OK  this owner holds the lease now\n--! reply HELD holder:string  another owner does\nlocal current = redis.call(\"GET\", KEYS[1])\nif not current then\n  redis.call(\"SET\", KEYS[1], ARGV[1], \"PX\", ARGV[2])\n  return {\"OK\"}\nend\nif current == ARGV[1] then\n  redis.call(\"PEXPIRE\", KEYS[1], ARGV[2])\n  return {\"OK\"}\nend\nreturn {\"HELD\", current}\n",
    "lease_release": "-- Give a lease up at once (compare-and-delete), so the next owner need not wait for the TTL.\n--! key lease\n--! arg owner string\n--! returns int  1 when released, 0 when it was not held by this owner\nif redis.call(\"GET\", KEYS[1]) == ARGV[1] then\n  redis.call(\"DEL\", KEYS[1])\n  return 1\nend\nreturn 0\n",
    "lease_renew": "-- Extend a lease only while this owner still holds it (compare-and-PEXPIRE).\n--! key lease\n--! arg owner string\n--! arg ttl_ms int\n--! returns int  1 when renewed, 0 when the lease is lost (fenced)\nif redis.call(\"GET\", KEYS[1]) == ARGV[1] then\n  redis.call(\"PEXPIRE\", KEYS[1], ARGV[2])\n  return 1\nend\nreturn 0\n",
    "mailbox_offer": "-- Offer one message to a wallet: keep order with what already waits; decide on a push notification.\n--! key route  wallet route key\n--! key mailbox  wallet mailbox (same {w:...} slot)\n--! key push_device  the wallet's `wallet_push_device` key (same slot)\n--! key push_window  the wallet's `wallet_push_window` key (same slot)\n--! key pickup?  the wallet's `wallet_pickup` key (same slot)\n--! arg message bytes  encoded WalletMessage\n--! arg cap int  mailbox cap (0 = none)\n--! arg live string  \"1\" = the caller may deliver live (route present and the mailbox empty), \"0\" = mailbox only, \"dead\" = mailbox only and the route names a dead relay\n--! arg push_window_ms int?  coalescing window of push notifications; absent or 0 = decide on none\n--! reply LIVE route:bytes  nothing written: the caller pushes to the relay\n--! reply MBOX depth:int route:bytes push:bytes  appended; route is empty without a session\n--! reply FULL depth:int  not written\n--! reply PICKUP depth:int route:bytes pickup:bytes push:bytes  appended, Message Pickup 2.0\n-- While the pickup key exists the wallet collects with Message Pickup 2.0, so the message is\n-- always appended (never LIVE) and the answer carries the pickup state for the caller's\n-- decision on a live `delivery`.\n-- `push` is the wallet's device (the `wallet_push_device` value) when the caller is to send it a\n-- push notification: the message was appended, the wallet has no session (no route, or one the\n-- caller found dead: `live` = \"dead\"), it\n-- registered a device, and no notification was decided within the window (which this starts).\n-- Otherwise it is empty. On the online path it costs nothing: a route present skips the reads.\nlocal route = redis.call(\"GET\", KEYS[1])\nlocal depth = redis.call(\"LLEN\", KEYS[2])\nlocal pickup = KEYS[5] and redis.call(\"GET\", KEYS[5])\nif ARGV[3] == \"1\" and route and depth == 0 and not pickup then\n  return {\"LIVE\", route}\nend\nlocal cap = tonumber(ARGV[2])\nif cap > 0 and depth >= cap then\n  return {\"FULL\", depth}\nend\ndepth = redis.call(\"RPUSH\", KEYS[2], ARGV[1])\nlocal push = \"\"\nlocal window_ms = tonumber(ARGV[4] or \"0\")\nif (not route or ARGV[3] == \"dead\") and window_ms > 0 then\n  local device = redis.call(\"GET\", KEYS[3])\n  if device and redis.call(\"SET\", KEYS[4], \"1\", \"NX\", \"PX\", window_ms) then\n    push = device\n  end\nend\nif pickup then\n  return {\"PICKUP\", depth, route or \"\", pickup, push}\nend\nreturn {\"MBOX\", depth, route or \"\", push}\n",
    "mailbox_take": "-- Remove the first ARGV[2] messages of a mailbox after they were handed on,\n-- only if its head is still ARGV[1] (another drain may have taken them: then\n-- nothing is removed and the caller only sent duplicates, never lost any).\n--! key mailbox  wallet mailbox\n--! arg head bytes  the head as read\n--! arg count int\n--! returns int  the remaining depth, or -1 if the head changed\nlocal head = redis.call(\"LINDEX\", KEYS[1], 0)\nif head ~= ARGV[1] then return -1 end\nredis.call(\"LTRIM\", KEYS[1], tonumber(ARGV[2]), -1)\nreturn redis.call(\"LLEN\", KEYS[1])\n",
    "pickup_ack": "-- Message Pickup 2.0 `messages-received`: remove exactly the acknowledged messages from a\n-- wallet's mailbox, wherever they are in it; mids not in it are ignored.\n--! key mailbox  wallet mailbox\n--! key sent  the wallet's `wallet_pickup_sent` hash (same {w:...} slot)\n--! arg mids string...  the acknowledged mids\n--! returns removed:int depth:int  how many were removed, and the remaining depth\n-- Walks the top-level fields of an encoded protobuf message: visit(field, wire, a, b) gets a\n-- varint's value (wire 0: a) or a length-delimited field's start and length (wire 2: a, b;\n-- the caller cuts out only the fields it wants). A visit that returns true ends the walk.\n-- Returns false at an unknown wire type, true otherwise.\nlocal function scan_fields(buf, visit)\n  local i, n = 1, #buf\n  local function varint()\n    local value, mult = 0, 1\n    while i <= n do\n      local b = string.byte(buf, i)\n      i = i + 1\n      value = value + (b % 128) * mult\n      if b < 128 then return value end\n      mult = mult * 128\n    end\n    return value\n  end\n  while i <= n do\n    local tag = varint()\n    local field, wire = math.floor(tag / 8), tag % 8\n    if wire == 0 then\n      if visit(field, 0, varint()) then return true end\n    elseif wire == 2 then\n      local len = varint()\n      if visit(field, 2, i, len) then return true end\n      i = i + len\n    elseif wire == 1 then\n      i = i + 8\n    elseif wire == 5 then\n      i = i + 4\n    else\n      return false\n    end\n  end\n  return true\nend\n-- The mid of an encoded WalletMessage (field 1, length-delimited); nil if it has none.\nlocal function mid_of(buf)\n  local mid\n  scan_fields(buf, function(field, wire, a, b)\n    if field == 1 and wire == 2 then\n      mid = string.sub(buf, a, a + b - 1)\n      return true\n    end\n  end)\n  return mid\nend\n-- The list is read in pages from the head (where delivered messages are) and the scan stops\n-- once every mid was found. Matches are overwritten with a tombstone, then removed with one\n-- LREM; a tombstone starts with a zero byte, which no encoded WalletMessage does (tag 0).\nlocal wanted, missing = {}, 0\nfor _, mid in ipairs(ARGV) do\n  if not wanted[mid] then\n    wanted[mid] = true\n    missing = missing + 1\n  end\n  redis.call(\"HDEL\", KEYS[2], mid)\nend\nlocal tombstone = \"\\0pickup-acknowledged\"\nlocal page, start, removed = 256, 0, 0\nwhile missing > 0 do\n  local items = redis.call(\"LRANGE\", KEYS[1], start, start + page - 1)\n  if #items == 0 then break end\n  for offset, item in ipairs(items) do\n    local mid = mid_of(item)\n    if mid and wanted[mid] then\n      redis.call(\"LSET\", KEYS[1], start + offset - 1, tombstone)\n      removed = removed + 1\n      if wanted[mid] == true then\n        wanted[mid] = \"found\"\n        missing = missing - 1\n      end\n    end\n  end\n  start = start + page\nend\nif removed > 0 then redis.call(\"LREM\", KEYS[1], 0, tombstone) end\nreturn {removed, redis.call(\"LLEN\", KEYS[1])}\n",
    "pickup_claim": "-- Message Pickup 2.0: claim mailbox messages for one wallet session before sending them to it\n-- (a live `delivery`, or a `delivery` answering a `delivery-request`). Whichever instance\n-- claims a message first sends it; every other path that wants to send it to the same session\n-- (another instance's live push or `delivery`) gets \"0\" and leaves it out. A claim lasts until\n-- `pickup_ack` removes the message, or until another session (another epoch) claims it.\n--! key mailbox  wallet mailbox\n--! key sent  the wallet's `wallet_pickup_sent` hash (same {w:...} slot): mid -> epoch of the session it went to\n--! arg epoch string  the session's epoch, as the hash stores it\n--! arg ttl_ms int  the hash's TTL\n--! arg from_tail string  \"1\": scan from the tail (a message just appended), \"0\": from the head (the oldest)\n--! arg mids string...  the messages the caller would send\n--! returns string  one character per mid, in order: \"1\" claimed by this call; \"0\" already claimed for this session, or no longer in the mailbox (acknowledged)\n-- Walks the top-level fields of an encoded protobuf message: visit(field, wire, a, b) gets a\n-- varint's value (wire 0: a) or a length-delimited field's start and length (wire 2: a, b;\n-- the caller cuts out only the fields it wants). A visit that returns true ends the walk.\n-- Returns false at an unknown wire type, true otherwise.\nlocal function scan_fields(buf, visit)\n  local i, n = 1, #buf\n  local function varint()\n    local value, mult = 0, 1\n    while i <= n do\n      local b = string.byte(buf, i)\n      i = i + 1\n      value = value + (b % 128) * mult\n      if b < 128 then return value end\n      mult = mult * 128\n    end\n    return value\n  end\n  while i <= n do\n    local tag = varint()\n    local field, wire = math.floor(tag / 8), tag % 8\n    if wire == 0 then\n      if visit(field, 0, varint()) then return true end\n    elseif wire == 2 then\n      local len = varint()\n      if visit(field, 2, i, len) then return true end\n      i = i + len\n    elseif wire == 1 then\n      i = i + 8\n    elseif wire == 5 then\n      i = i + 4\n    else\n      return false\n    end\n  end\n  return true\nend\n-- The mid of an encoded WalletMessage (field 1, length-delimited); nil if it has none.\nlocal function mid_of(buf)\n  local mid\n  scan_fields(buf, function(field, wire, a, b)\n    if field == 1 and wire == 2 then\n      mid = string.sub(buf, a, a + b - 1)\n      return true\n    end\n  end)\n  return mid\nend\n-- A message must still be in the mailbox: one the wallet acknowledged meanwhile (its claim\n-- removed with it by `pickup_ack`) would otherwise be claimed and sent again. The scan reads\n-- pages and stops once every wanted mid was found.\nlocal epoch, ttl, from_tail = ARGV[1], ARGV[2], ARGV[3] == \"1\"\nlocal wanted, missing = {}, 0\nfor i = 4, #ARGV do\n  local mid = ARGV[i]\n  if not wanted[mid] and redis.call(\"HGET\", KEYS[2], mid) ~= epoch then\n    wanted[mid] = true\n    missing = missing + 1\n  end\nend\nlocal found = {}\nlocal page, start = 256, 0\nwhile missing > 0 do\n  local items\n  if from_tail then\n    items = redis.call(\"LRANGE\", KEYS[1], -(start + page), -(start + 1))\n  else\n    items = redis.call(\"LRANGE\", KEYS[1], start, start + page - 1)\n  end\n  if #items == 0 then break end\n  for _, item in ipairs(items) do\n    local mid = mid_of(item)\n    if mid and wanted[mid] and not found[mid] then\n      found[mid] = true\n      missing = missing - 1\n    end\n  end\n  start = start + page\nend\nlocal claimed, any = {}, false\nfor i = 4, #ARGV do\n  local mid = ARGV[i]\n  if found[mid] then\n    redis.call(\"HSET\", KEYS[2], mid, epoch)\n    found[mid] = nil\n    any = true\n    claimed[#claimed + 1] = \"1\"\n  else\n    claimed[#claimed + 1] = \"0\"\n  end\nend\nif any then redis.call(\"PEXPIRE\", KEYS[2], ttl) end\nreturn table.concat(claimed)\n",
    "push_device_clear": "-- Remove a wallet's push device the push service reported unregistered, unless it changed since.\n--! key push_device  the wallet's `wallet_push_device` key\n--! arg device bytes  the value the notification was sent with (PushNotification.device)\n--! returns int  1 = removed, 0 = the wallet registered another device meanwhile (or none is left)\nif redis.call(\"GET\", KEYS[1]) == ARGV[1] then\n  return redis.call(\"DEL\", KEYS[1])\nend\nreturn 0\n",
    "retry_fail": "-- The head of a park list failed again: record the attempt and schedule the next one.\n--! key lease\n--! key park  park list\n--! key retry  retry schedule (same slot)\n--! arg owner string  lease owner value\n--! arg recipient string  recipient key\n--! arg parked_job bytes  encoded ParkedJob (updated head)\n--! arg due_ms int\n--! reply OK\n--! reply EMPTY  nothing parked any more\n--! reply FENCED\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nif redis.call(\"EXISTS\", KEYS[2]) == 0 then\n  redis.call(\"ZREM\", KEYS[3], ARGV[2])\n  return {\"EMPTY\"}\nend\nredis.call(\"LSET\", KEYS[2], 0, ARGV[3])\nredis.call(\"ZADD\", KEYS[3], ARGV[4], ARGV[2])\nreturn {\"OK\"}\n",
    "retry_ok": "-- The head of a park list was delivered: drop it; the next one (if any) is due at once.\n--! key lease\n--! key park  park list\n--! key retry  retry schedule (same slot)\n--! arg owner string  lease owner value\n--! arg recipient string  recipient key\n--! arg now_ms int\n--! arg head_digest string?  SHA-1 (hex) of the head the caller delivered; absent when it found the list empty\n--! reply NEXT removed:int  more parked, due now\n--! reply EMPTY removed:int\n--! reply FENCED\n-- The head of a park list is settled: the next parked job (if any) is due at `now`; an empty\n-- list leaves the retry schedule. Returns \"NEXT\" or \"EMPTY\".\nlocal function schedule_next(park, retry, now, recipient)\n  if redis.call(\"LLEN\", park) > 0 then\n    redis.call(\"ZADD\", retry, now, recipient)\n    return \"NEXT\"\n  end\n  redis.call(\"ZREM\", retry, recipient)\n  return \"EMPTY\"\nend\n-- removed is 1 when this call dropped the head, 0 when the head was no longer the delivered one.\n-- The head is dropped only while it is still the delivered one: a client may send this call\n-- again after a lost connection although Redis ran it, and a second blind pop would drop the\n-- next job undelivered. A digest rather than the bytes: a parked job can carry a large message.\nif redis.call(\"GET\", KEYS[1]) ~= ARGV[1] then\n  return {\"FENCED\"}\nend\nlocal removed = 0\nlocal head = redis.call(\"LINDEX\", KEYS[2], 0)\nif head and ARGV[4] and redis.sha1hex(head) == ARGV[4] then\n  redis.call(\"LPOP\", KEYS[2])\n  removed = 1\nend\nreturn {schedule_next(KEYS[2], KEYS[3], ARGV[3], ARGV[2]), removed}\n",
    "route_clear": "-- Delete a wallet's route only if it still points at this relay's socket\n-- (compare-and-delete: a newer session elsewhere is left alone).\n--! key route  wallet route key\n--! arg relay_id string\n--! arg socket_id string\n--! returns int  1 if deleted, 0 otherwise\n-- Walks the top-level fields of an encoded protobuf message: visit(field, wire, a, b) gets a\n-- varint's value (wire 0: a) or a length-delimited field's start and length (wire 2: a, b;\n-- the caller cuts out only the fields it wants). A visit that returns true ends the walk.\n-- Returns false at an unknown wire type, true otherwise.\nlocal function scan_fields(buf, visit)\n  local i, n = 1, #buf\n  local function varint()\n    local value, mult = 0, 1\n    while i <= n do\n      local b = string.byte(buf, i)\n      i = i + 1\n      value = value + (b % 128) * mult\n      if b < 128 then return value end\n      mult = mult * 128\n    end\n    return value\n  end\n  while i <= n do\n    local tag = varint()\n    local field, wire = math.floor(tag / 8), tag % 8\n    if wire == 0 then\n      if visit(field, 0, varint()) then return true end\n    elseif wire == 2 then\n      local len = varint()\n      if visit(field, 2, i, len) then return true end\n      i = i + len\n    elseif wire == 1 then\n      i = i + 8\n    elseif wire == 5 then\n      i = i + 4\n    else\n      return false\n    end\n  end\n  return true\nend\n-- Reads a stored WalletRoute: relay_id is field 1, socket_id field 2, epoch field 3 (varint).\n-- Returns relay, socket (\"\" when absent), the first epoch (nil when absent) and whether the\n-- bytes parsed; it stops at an unknown wire type and keeps what it read before.\nlocal function wallet_route(buf)\n  local relay, socket, epoch = \"\", \"\", nil\n  local parsed = scan_fields(buf, function(field, wire, a, b)\n    if wire == 0 and field == 3 and epoch == nil then\n      epoch = a\n    elseif wire == 2 and field == 1 then\n      relay = string.sub(buf, a, a + b - 1)\n    elseif wire == 2 and field == 2 then\n      socket = string.sub(buf, a, a + b - 1)\n    end\n  end)\n  return relay, socket, epoch, parsed\nend\nlocal buf = redis.call(\"GET\", KEYS[1])\nif not buf then return 0 end\nlocal relay, socket, _, parsed = wallet_route(buf)\nif not parsed then return 0 end\nif relay == ARGV[1] and socket == ARGV[2] then\n  redis.call(\"DEL\", KEYS[1])\n  return 1\nend\nreturn 0\n",
    "route_set": "-- Register a wallet's route (wallet key -> relay + socket): the newest session wins.\n--! key route  wallet route key\n--! key pickup?  the wallet's `wallet_pickup` key (same slot)\n--! arg wallet_route bytes  encoded WalletRoute\n--! arg epoch int  its epoch\n--! arg ttl_ms int\n--! reply SET replaced_epoch:string pickup:string  replaced: the replaced route's epoch, or \"\" if there was none; pickup: \"PICKUP\" if the pickup key exists (the wallet collects with Message Pickup 2.0: no drain), else \"\"\n--! reply STALE stored_epoch:string\n-- Walks the top-level fields of an encoded protobuf message: visit(field, wire, a, b) gets a\n-- varint's value (wire 0: a) or a length-delimited field's start and length (wire 2: a, b;\n-- the caller cuts out only the fields it wants). A visit that returns true ends the walk.\n-- Returns false at an unknown wire type, true otherwise.\nlocal function scan_fields(buf, visit)\n  local i, n = 1, #buf\n  local function varint()\n    local value, mult = 0, 1\n    while i <= n do\n      local b = string.byte(buf, i)\n      i = i + 1\n      value = value + (b % 128) * mult\n      if b < 128 then return value end\n      mult = mult * 128\n    end\n    return value\n  end\n  while i <= n do\n    local tag = varint()\n    local field, wire = math.floor(tag / 8), tag % 8\n    if wire == 0 then\n      if visit(field, 0, varint()) then return true end\n    elseif wire == 2 then\n      local len = varint()\n      if visit(field, 2, i, len) then return true end\n      i = i + len\n    elseif wire == 1 then\n      i = i + 8\n    elseif wire == 5 then\n      i = i + 4\n    else\n      return false\n    end\n  end\n  return true\nend\n-- Reads a stored WalletRoute: relay_id is field 1, socket_id field 2, epoch field 3 (varint).\n-- Returns relay, socket (\"\" when absent), the first epoch (nil when absent) and whether the\n-- bytes parsed; it stops at an unknown wire type and keeps what it read before.\nlocal function wallet_route(buf)\n  local relay, socket, epoch = \"\", \"\", nil\n  local parsed = scan_fields(buf, function(field, wire, a, b)\n    if wire == 0 and field == 3 and epoch == nil then\n      epoch = a\n    elseif wire == 2 and field == 1 then\n      relay = string.sub(buf, a, a + b - 1)\n    elseif wire == 2 and field == 2 then\n      socket = string.sub(buf, a, a + b - 1)\n    end\n  end)\n  return relay, socket, epoch, parsed\nend\nlocal function epoch_of(buf)\n  local _, _, epoch = wallet_route(buf)\n  return epoch or 0\nend\nlocal current = redis.call(\"GET\", KEYS[1])\nlocal epoch = tonumber(ARGV[2])\nlocal replaced = \"\"\nif current then\n  local stored = epoch_of(current)\n  if stored > epoch then\n    return {\"STALE\", string.format(\"%.0f\", stored)}\n  end\n  -- %.0f, not tostring: epochs (ms * 1000 + counter) have 16 digits, tostring keeps 14.\n  replaced = string.format(\"%.0f\", stored)\nend\nredis.call(\"SET\", KEYS[1], ARGV[1], \"PX\", ARGV[3])\nlocal pickup = \"\"\nif KEYS[2] and redis.call(\"EXISTS\", KEYS[2]) == 1 then pickup = \"PICKUP\" end\nreturn {\"SET\", replaced, pickup}\n",
    "write_batch": "-- Several writes of one process in one call, applied in order, each as its own\n-- script would (enqueue, an event-stream append, a PUBLISH of a command without\n-- a body to its relay's channel, ack): the shim's writes for one or more inbound messages\n-- (outbound jobs, webhook jobs, events, the direct \"no response\" answer, the\n-- acknowledgement) cost one round trip. It stops at the first enqueue whose\n-- partition is full: what came before it is applied, nothing after it, so an\n-- acknowledgement placed after a message's writes is applied only with them.\n-- Keys may lie in different hash slots: standalone Redis only (a Cluster\n-- client makes the same writes one call each).\n--! key keys...  every key the writes name, referenced by 1-based index\n--! arg ops bytes...  op code then its fields: enqueue stream_i seen_i(0=none) field envelope high_water_mark seen_ttl_ms | append stream_i field envelope max_length(0=none) | signal channel command | ack stream_i group count id...\n--! reply OK gone:int  all applied; gone = signals no relay subscribed to\n--! reply BUSY at:int backlog:int  ops before index `at` (0-based) applied, none from it on\n-- Appends one envelope to a work stream, at most once per dedup key (when given), refusing when the\n-- backlog has reached its high-water mark (0 = none). The marker comes first, in one command (SET NX):\n-- it both finds a retried write and marks this one; a refusal takes it back. (Once a script wrote,\n-- Redis lets it finish its writes even past maxmemory.)\n-- Returns the entry id; false for a duplicate; or nil and the backlog when refused.\nlocal function enqueue_once(stream, seen, entry_field, envelope, high_water_mark, seen_ttl_ms)\n  if seen and not redis.call(\"SET\", seen, \"1\", \"NX\", \"PX\", seen_ttl_ms) then\n    return false\n  end\n  if high_water_mark > 0 then\n    local backlog = redis.call(\"XLEN\", stream)\n    if backlog >= high_water_mark then\n      if seen then\n        redis.call(\"DEL\", seen)\n      end\n      return nil, backlog\n    end\n  end\n  return redis.call(\"XADD\", stream, \"*\", entry_field, envelope)\nend\nlocal i = 1\nlocal op = 0\nlocal gone = 0\nwhile i <= #ARGV do\n  local code = ARGV[i]\n  if code == \"enqueue\" then\n    local seen_index = tonumber(ARGV[i + 2])\n    local seen = seen_index > 0 and KEYS[seen_index] or nil\n    local id, backlog = enqueue_once(\n      KEYS[tonumber(ARGV[i + 1])], seen, ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6]\n    )\n    if id == nil then\n      return {\"BUSY\", op, backlog}\n    end\n    i = i + 7\n  elseif code == \"append\" then\n    local stream = KEYS[tonumber(ARGV[i + 1])]\n    if tonumber(ARGV[i + 4]) > 0 then\n      redis.call(\"XADD\", stream, \"MAXLEN\", \"~\", ARGV[i + 4], \"*\", ARGV[i + 2], ARGV[i + 3])\n    else\n      redis.call(\"XADD\", stream, \"*\", ARGV[i + 2], ARGV[i + 3])\n    end\n    i = i + 5\n  elseif code == \"signal\" then\n    -- Not stored (relay_signals): without a subscriber (the relay gone) it is dropped, as it carries nothing.\n    if redis.call(\"PUBLISH\", ARGV[i + 1], ARGV[i + 2]) == 0 then\n      gone = gone + 1\n    end\n    i = i + 3\n  elseif code == \"ack\" then\n    local stream = KEYS[tonumber(ARGV[i + 1])]\n    local count = tonumber(ARGV[i + 3])\n    local first = i + 4\n    local last = first + count - 1\n    -- In chunks: unpack() fails past Lua's stack limit.\n    for from = first, last, 1000 do\n      local to = math.min(from + 999, last)\n      redis.call(\"XACK\", stream, ARGV[i + 2], unpack(ARGV, from, to))\n      redis.call(\"XDEL\", stream, unpack(ARGV, from, to))\n    end\n    i = last + 1\n  else\n    return redis.error_reply(\"write_batch: unknown op \" .. tostring(code))\n  end\n  op = op + 1\nend\nreturn {\"OK\", gone}\n",
}

AckReply: TypeAlias = int
AdminClaimReply: TypeAlias = int
AdmitReply: TypeAlias = tuple[Literal["GO"]] | tuple[Literal["PARKED"]] | tuple[Literal["FENCED"]]
BuryReply: TypeAlias = str
BuryParkedReply: TypeAlias = tuple[Literal["NEXT"], str] | tuple[Literal["EMPTY"], str] | tuple[Literal["FENCED"]]
DeferReply: TypeAlias = tuple[Literal["OK"]] | tuple[Literal["FENCED"]]
EnqueueReply: TypeAlias = tuple[Literal["OK"], str] | tuple[Literal["DUP"], str] | tuple[Literal["BUSY"], str]
FencedAckReply: TypeAlias = tuple[Literal["OK"], int] | tuple[Literal["FENCED"]]
FencedBuryReply: TypeAlias = tuple[Literal["OK"], str] | tuple[Literal["FENCED"]]
InboundEnqueueReply: TypeAlias = tuple[Literal["OK"], str] | tuple[Literal["DUP"], str] | tuple[Literal["BUSY"], str] | tuple[Literal["BUSY_BYTES"], str] | tuple[Literal["BUSY_RECIPIENT"], str]
InboxPushReply: TypeAlias = tuple[Literal["OK"], str] | tuple[Literal["GONE"], str]
InboxRetireReply: TypeAlias = int
LeaseAcquireReply: TypeAlias = tuple[Literal["OK"]] | tuple[Literal["HELD"], str]
LeaseReleaseReply: TypeAlias = int
LeaseRenewReply: TypeAlias = int
MailboxOfferReply: TypeAlias = tuple[Literal["LIVE"], bytes] | tuple[Literal["MBOX"], int, bytes, bytes] | tuple[Literal["FULL"], int] | tuple[Literal["PICKUP"], int, bytes, bytes, bytes]
MailboxTakeReply: TypeAlias = int
PickupAckReply: TypeAlias = tuple[int, int]
PickupClaimReply: TypeAlias = str
PushDeviceClearReply: TypeAlias = int
RetryFailReply: TypeAlias = tuple[Literal["OK"]] | tuple[Literal["EMPTY"]] | tuple[Literal["FENCED"]]
RetryOkReply: TypeAlias = tuple[Literal["NEXT"], int] | tuple[Literal["EMPTY"], int] | tuple[Literal["FENCED"]]
RouteClearReply: TypeAlias = int
RouteSetReply: TypeAlias = tuple[Literal["SET"], str, str] | tuple[Literal["STALE"], str]
WriteBatchReply: TypeAlias = tuple[Literal["OK"], int] | tuple[Literal["BUSY"], int, int]


class ScriptReplyError(RuntimeError):
    """A script answered outside its declared reply shape."""

    def __init__(self, script: str, reply: object):
        super().__init__(f"{script}.lua returned {reply!r}, not a declared reply")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(value: object) -> int:
    if isinstance(value, (int, str, bytes)):
        return int(value)
    raise TypeError(f"a script answered {value!r} where its header declares an integer")


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _array(script: str, value: object) -> list[object]:
    if not isinstance(value, list) or not value:
        raise ScriptReplyError(script, value)
    return value


def _reply_ack(raw: object) -> AckReply:
    return _int(raw)


def _reply_admin_claim(raw: object) -> AdminClaimReply:
    return _int(raw)


def _reply_admit(raw: object) -> AdmitReply:
    reply = _array("admit", raw)
    status = _text(reply[0])
    if status == "GO":
        return ("GO",)
    if status == "PARKED":
        return ("PARKED",)
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("admit", raw)


def _reply_bury(raw: object) -> BuryReply:
    return _text(raw)


def _reply_bury_parked(raw: object) -> BuryParkedReply:
    reply = _array("bury_parked", raw)
    status = _text(reply[0])
    if status == "NEXT":
        return ("NEXT", _text(reply[1]))
    if status == "EMPTY":
        return ("EMPTY", _text(reply[1]))
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("bury_parked", raw)


def _reply_defer(raw: object) -> DeferReply:
    reply = _array("defer", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK",)
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("defer", raw)


def _reply_enqueue(raw: object) -> EnqueueReply:
    reply = _array("enqueue", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK", _text(reply[1]))
    if status == "DUP":
        return ("DUP", _text(reply[1]))
    if status == "BUSY":
        return ("BUSY", _text(reply[1]))
    raise ScriptReplyError("enqueue", raw)


def _reply_fenced_ack(raw: object) -> FencedAckReply:
    reply = _array("fenced_ack", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK", _int(reply[1]))
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("fenced_ack", raw)


def _reply_fenced_bury(raw: object) -> FencedBuryReply:
    reply = _array("fenced_bury", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK", _text(reply[1]))
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("fenced_bury", raw)


def _reply_inbound_enqueue(raw: object) -> InboundEnqueueReply:
    reply = _array("inbound_enqueue", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK", _text(reply[1]))
    if status == "DUP":
        return ("DUP", _text(reply[1]))
    if status == "BUSY":
        return ("BUSY", _text(reply[1]))
    if status == "BUSY_BYTES":
        return ("BUSY_BYTES", _text(reply[1]))
    if status == "BUSY_RECIPIENT":
        return ("BUSY_RECIPIENT", _text(reply[1]))
    raise ScriptReplyError("inbound_enqueue", raw)


def _reply_inbox_push(raw: object) -> InboxPushReply:
    reply = _array("inbox_push", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK", _text(reply[1]))
    if status == "GONE":
        return ("GONE", _text(reply[1]))
    raise ScriptReplyError("inbox_push", raw)


def _reply_inbox_retire(raw: object) -> InboxRetireReply:
    return _int(raw)


def _reply_lease_acquire(raw: object) -> LeaseAcquireReply:
    reply = _array("lease_acquire", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK",)
    if status == "HELD":
        return ("HELD", _text(reply[1]))
    raise ScriptReplyError("lease_acquire", raw)


def _reply_lease_release(raw: object) -> LeaseReleaseReply:
    return _int(raw)


def _reply_lease_renew(raw: object) -> LeaseRenewReply:
    return _int(raw)


def _reply_mailbox_offer(raw: object) -> MailboxOfferReply:
    reply = _array("mailbox_offer", raw)
    status = _text(reply[0])
    if status == "LIVE":
        return ("LIVE", _bytes(reply[1]))
    if status == "MBOX":
        return ("MBOX", _int(reply[1]), _bytes(reply[2]), _bytes(reply[3]))
    if status == "FULL":
        return ("FULL", _int(reply[1]))
    if status == "PICKUP":
        return ("PICKUP", _int(reply[1]), _bytes(reply[2]), _bytes(reply[3]), _bytes(reply[4]))
    raise ScriptReplyError("mailbox_offer", raw)


def _reply_mailbox_take(raw: object) -> MailboxTakeReply:
    return _int(raw)


def _reply_pickup_ack(raw: object) -> PickupAckReply:
    reply = _array("pickup_ack", raw)
    return (_int(reply[0]), _int(reply[1]))


def _reply_pickup_claim(raw: object) -> PickupClaimReply:
    return _text(raw)


def _reply_push_device_clear(raw: object) -> PushDeviceClearReply:
    return _int(raw)


def _reply_retry_fail(raw: object) -> RetryFailReply:
    reply = _array("retry_fail", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK",)
    if status == "EMPTY":
        return ("EMPTY",)
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("retry_fail", raw)


def _reply_retry_ok(raw: object) -> RetryOkReply:
    reply = _array("retry_ok", raw)
    status = _text(reply[0])
    if status == "NEXT":
        return ("NEXT", _int(reply[1]))
    if status == "EMPTY":
        return ("EMPTY", _int(reply[1]))
    if status == "FENCED":
        return ("FENCED",)
    raise ScriptReplyError("retry_ok", raw)


def _reply_route_clear(raw: object) -> RouteClearReply:
    return _int(raw)


def _reply_route_set(raw: object) -> RouteSetReply:
    reply = _array("route_set", raw)
    status = _text(reply[0])
    if status == "SET":
        return ("SET", _text(reply[1]), _text(reply[2]))
    if status == "STALE":
        return ("STALE", _text(reply[1]))
    raise ScriptReplyError("route_set", raw)


def _reply_write_batch(raw: object) -> WriteBatchReply:
    reply = _array("write_batch", raw)
    status = _text(reply[0])
    if status == "OK":
        return ("OK", _int(reply[1]))
    if status == "BUSY":
        return ("BUSY", _int(reply[1]), _int(reply[2]))
    raise ScriptReplyError("write_batch", raw)


class LuaScripts:
    """One typed method per contract script; a subclass runs them (`_invoke`: keys, then args)."""

    async def _invoke(self, name: str, keys: list[str], args: list[ScriptValue]) -> object:
        raise NotImplementedError

    async def ack(self, *, stream: str, group: str, ids: Sequence[str]) -> AckReply:
        keys = [stream]
        args: list[ScriptValue] = [group, *ids]
        return _reply_ack(await self._invoke("ack", keys, args))

    async def admin_claim(self, *, stream: str, claim: str, entry_id: str, claimant: str, ttl_ms: int) -> AdminClaimReply:
        keys = [stream, claim]
        args: list[ScriptValue] = [entry_id, claimant, ttl_ms]
        return _reply_admin_claim(await self._invoke("admin_claim", keys, args))

    async def admit(self, *, lease: str, stream: str, park: str, owner: str, group: str, entry_id: str, parked_job: bytes) -> AdmitReply:
        keys = [lease, stream, park]
        args: list[ScriptValue] = [owner, group, entry_id, parked_job]
        return _reply_admit(await self._invoke("admit", keys, args))

    async def bury(self, *, stream: str, dead_letters: str, group: str, entry_id: str, entry_field: str, dead_letter: bytes, cap: int) -> BuryReply:
        keys = [stream, dead_letters]
        args: list[ScriptValue] = [group, entry_id, entry_field, dead_letter, cap]
        return _reply_bury(await self._invoke("bury", keys, args))

    async def bury_parked(self, *, lease: str, park: str, retry: str, dead_letters: str, owner: str, recipient: str, now_ms: int, entry_field: str, dead_letter: bytes, cap: int, head_digest: str) -> BuryParkedReply:
        keys = [lease, park, retry, dead_letters]
        args: list[ScriptValue] = [owner, recipient, now_ms, entry_field, dead_letter, cap, head_digest]
        return _reply_bury_parked(await self._invoke("bury_parked", keys, args))

    async def defer(self, *, lease: str, stream: str, park: str, retry: str, owner: str, group: str, entry_id: str, parked_job: bytes, due_ms: int, recipient: str) -> DeferReply:
        keys = [lease, stream, park, retry]
        args: list[ScriptValue] = [owner, group, entry_id, parked_job, due_ms, recipient]
        return _reply_defer(await self._invoke("defer", keys, args))

    async def enqueue(self, *, stream: str, seen: str | None = None, entry_field: str, envelope: bytes, high_water_mark: int, seen_ttl_ms: int) -> EnqueueReply:
        keys = [stream] if seen is None else [stream, seen]
        args: list[ScriptValue] = [entry_field, envelope, high_water_mark, seen_ttl_ms]
        return _reply_enqueue(await self._invoke("enqueue", keys, args))

    async def fenced_ack(self, *, lease: str, stream: str, owner: str, group: str, ids: Sequence[str]) -> FencedAckReply:
        keys = [lease, stream]
        args: list[ScriptValue] = [owner, group, *ids]
        return _reply_fenced_ack(await self._invoke("fenced_ack", keys, args))

    async def fenced_bury(self, *, lease: str, stream: str, dead_letters: str, owner: str, group: str, entry_id: str, entry_field: str, dead_letter: bytes, cap: int) -> FencedBuryReply:
        keys = [lease, stream, dead_letters]
        args: list[ScriptValue] = [owner, group, entry_id, entry_field, dead_letter, cap]
        return _reply_fenced_bury(await self._invoke("fenced_bury", keys, args))

    async def inbound_enqueue(self, *, stream: str, recipient_count: str, seen: str | None = None, entry_field: str, envelope: bytes, high_water_mark: int, high_water_bytes: int, recipient_cap: int, recipient_window_ms: int, seen_ttl_ms: int) -> InboundEnqueueReply:
        keys = [stream, recipient_count] if seen is None else [stream, recipient_count, seen]
        args: list[ScriptValue] = [entry_field, envelope, high_water_mark, high_water_bytes, recipient_cap, recipient_window_ms, seen_ttl_ms]
        return _reply_inbound_enqueue(await self._invoke("inbound_enqueue", keys, args))

    async def inbox_push(self, *, inbox: str, entry_field: str, command: bytes) -> InboxPushReply:
        keys = [inbox]
        args: list[ScriptValue] = [entry_field, command]
        return _reply_inbox_push(await self._invoke("inbox_push", keys, args))

    async def inbox_retire(self, *, inbox: str) -> InboxRetireReply:
        keys = [inbox]
        args: list[ScriptValue] = []
        return _reply_inbox_retire(await self._invoke("inbox_retire", keys, args))

    async def lease_acquire(self, *, lease: str, owner: str, ttl_ms: int) -> LeaseAcquireReply:
        keys = [lease]
        args: list[ScriptValue] = [owner, ttl_ms]
        return _reply_lease_acquire(await self._invoke("lease_acquire", keys, args))

    async def lease_release(self, *, lease: str, owner: str) -> LeaseReleaseReply:
        keys = [lease]
        args: list[ScriptValue] = [owner]
        return _reply_lease_release(await self._invoke("lease_release", keys, args))

    async def lease_renew(self, *, lease: str, owner: str, ttl_ms: int) -> LeaseRenewReply:
        keys = [lease]
        args: list[ScriptValue] = [owner, ttl_ms]
        return _reply_lease_renew(await self._invoke("lease_renew", keys, args))

    async def mailbox_offer(self, *, route: str, mailbox: str, push_device: str, push_window: str, pickup: str | None = None, message: bytes, cap: int, live: str, push_window_ms: int | None = None) -> MailboxOfferReply:
        keys = [route, mailbox, push_device, push_window] if pickup is None else [route, mailbox, push_device, push_window, pickup]
        args: list[ScriptValue] = [message, cap, live]
        if push_window_ms is not None:
            args.append(push_window_ms)
        return _reply_mailbox_offer(await self._invoke("mailbox_offer", keys, args))

    async def mailbox_take(self, *, mailbox: str, head: bytes, count: int) -> MailboxTakeReply:
        keys = [mailbox]
        args: list[ScriptValue] = [head, count]
        return _reply_mailbox_take(await self._invoke("mailbox_take", keys, args))

    async def pickup_ack(self, *, mailbox: str, sent: str, mids: Sequence[str]) -> PickupAckReply:
        keys = [mailbox, sent]
        args: list[ScriptValue] = [*mids]
        return _reply_pickup_ack(await self._invoke("pickup_ack", keys, args))

    async def pickup_claim(self, *, mailbox: str, sent: str, epoch: str, ttl_ms: int, from_tail: str, mids: Sequence[str]) -> PickupClaimReply:
        keys = [mailbox, sent]
        args: list[ScriptValue] = [epoch, ttl_ms, from_tail, *mids]
        return _reply_pickup_claim(await self._invoke("pickup_claim", keys, args))

    async def push_device_clear(self, *, push_device: str, device: bytes) -> PushDeviceClearReply:
        keys = [push_device]
        args: list[ScriptValue] = [device]
        return _reply_push_device_clear(await self._invoke("push_device_clear", keys, args))

    async def retry_fail(self, *, lease: str, park: str, retry: str, owner: str, recipient: str, parked_job: bytes, due_ms: int) -> RetryFailReply:
        keys = [lease, park, retry]
        args: list[ScriptValue] = [owner, recipient, parked_job, due_ms]
        return _reply_retry_fail(await self._invoke("retry_fail", keys, args))

    async def retry_ok(self, *, lease: str, park: str, retry: str, owner: str, recipient: str, now_ms: int, head_digest: str | None = None) -> RetryOkReply:
        keys = [lease, park, retry]
        args: list[ScriptValue] = [owner, recipient, now_ms]
        if head_digest is not None:
            args.append(head_digest)
        return _reply_retry_ok(await self._invoke("retry_ok", keys, args))

    async def route_clear(self, *, route: str, relay_id: str, socket_id: str) -> RouteClearReply:
        keys = [route]
        args: list[ScriptValue] = [relay_id, socket_id]
        return _reply_route_clear(await self._invoke("route_clear", keys, args))

    async def route_set(self, *, route: str, pickup: str | None = None, wallet_route: bytes, epoch: int, ttl_ms: int) -> RouteSetReply:
        keys = [route] if pickup is None else [route, pickup]
        args: list[ScriptValue] = [wallet_route, epoch, ttl_ms]
        return _reply_route_set(await self._invoke("route_set", keys, args))

    async def write_batch(self, *, keys: Sequence[str], ops: Sequence[bytes]) -> WriteBatchReply:
        keys = [*keys]
        args: list[ScriptValue] = [*ops]
        return _reply_write_batch(await self._invoke("write_batch", keys, args))
