-- Acknowledge entries and delete them, so that XLEN stays equal to the
-- backlog (acknowledged entries are never needed again).
--! key stream
--! arg group string  consumer group
--! arg ids string...  entry ids
--! returns int  the number of entries acknowledged
--! include chunked_ack
return chunked_ack(KEYS[1], ARGV[1], 2)
