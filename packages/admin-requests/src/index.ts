// Calls ACA-Py's admin API through Redis (docs/admin-api.md): for the relay's admin listener and
// for controllers whose only connection to ACA-Py is Redis.

export { AdminNoLiveInstanceError, AdminOutcomeUnknownError, type NotExecutedReason } from "./admin-errors.js";
export { forwardedRequestHeaders, type RequestHeaders } from "./forwarded-headers.js";
export {
  ADMIN_EXECUTOR_ROLE,
  type AdminAnswer,
  type AdminCall,
  DEFAULT_ADMIN_TIMEOUT_MS,
  RedisAdminClient,
  type RedisAdminClientOptions,
} from "./redis-admin-client.js";
