// For controllers of ACA-Py behind acapy-bridge: ACA-Py's events from the Redis
// events streams, and the admin API through one interface (docs/controllers.md).

export { AdminNoLiveInstanceError, AdminOutcomeUnknownError } from "@acapy-bridge/admin-requests";
export { AcaPyAdminCalls, type ConnectionRecord } from "./acapy-admin-calls.js";
export { AdminCallError, type AdminClient, type AdminRequest, type AdminResponse, adminJson } from "./admin-client.js";
export { AdminThroughRedis, type AdminThroughRedisOptions } from "./admin-through-redis.js";
export { type ControllerEvent, EventDecodeError } from "./controller-event.js";
export { readDeploymentKeyspace, TopologyMissingError } from "./deployment-keyspace.js";
export type { EventFilter } from "./event-filter.js";
export {
  defaultConsumerName,
  EventsConsumer,
  type EventsConsumerOptions,
  type GivenUpEvent,
} from "./events-consumer.js";
export type { EventOutcome } from "./events-metrics.js";
export { AdminTimeoutError, HttpAdminClient, type HttpAdminClientOptions } from "./http-admin-client.js";
