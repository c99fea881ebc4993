export { AcaPyAdmin, connectAgents } from "./acapy-admin.js";
export { type AcaPyOptions, AcaPyProcess, acapyBinary } from "./acapy-process.js";
export { exited, killAllChildren, killChildrenOnExit, trackChild } from "./child-processes.js";
export { freeClusterPort, freePort } from "./free-port.js";
export { PostgresServer, postgresBinDir } from "./postgres-server.js";
export { RedisCluster, RedisServer, type RedisServerOptions } from "./redis-server.js";
export { uniquePrefix } from "./test-prefix.js";
export { waitFor } from "./wait-for.js";
export { type ReceivedWebhook, WebhookSink } from "./webhook-sink.js";
