-- Remove a wallet's push device the push service reported unregistered, unless it changed since.
--! key push_device  the wallet's `wallet_push_device` key
--! arg device bytes  the value the notification was sent with (PushNotification.device)
--! returns int  1 = removed, 0 = the wallet registered another device meanwhile (or none is left)
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
