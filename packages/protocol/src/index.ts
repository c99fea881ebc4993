// The acapy-bridge contract: envelopes and keys generated from proto/, and
// the Redis plumbing that every part (relay, deliverer) builds on.

export { decodeEnvelope, EnvelopeDecodeError, encodeEnvelope } from "./contract/envelope-codec.js";
export {
  KeyError,
  type KeyName,
  type KeySpec,
  Keyspace,
  type KeyVars,
  keySpecs,
  type PartitionCounts,
  partitionCountsOf,
} from "./contract/keyspace.js";
export { newMessageId } from "./contract/message-id.js";
export { CLUSTER_SLOTS, crc16, hashSlot, partitionOf, partitionTag } from "./contract/partitioning.js";
export * from "./gen/acapy_bridge/v1/control_pb.js";
export * from "./gen/acapy_bridge/v1/envelopes_pb.js";
export { RedisType, ValueEncoding } from "./gen/acapy_bridge/v1/keyspace_options_pb.js";
export { Liveness, MailboxDrain } from "./gen/acapy_bridge/v1/keyspace_pb.js";
export * from "./gen/lua_scripts.js";
export { type LuaScriptName, luaScripts } from "./gen/lua_sources.js";
export {
  type ConnectionPurpose,
  closeRedisClient,
  createRedisClient,
  type RedisClient,
  RedisConfigError,
  type RedisConnectionConfig,
  redactUrl,
  redisUrlProblem,
  waitUntilReady,
} from "./redis/connection.js";
export { GroupReader, type GroupReaderOptions } from "./redis/group-reader.js";
export { LingeringAcks } from "./redis/lingering-acks.js";
export {
  DEFAULT_DEAD_AFTER_MS,
  DEFAULT_HEARTBEAT_MS,
  instanceInfo,
  Membership,
  type MembershipOptions,
  readInstanceInfo,
} from "./redis/membership.js";
export { registerScripts } from "./redis/scripts.js";
export {
  ackEntries,
  autoClaim,
  autoClaimIds,
  type BuryRequest,
  buryEntry,
  type ClaimedIds,
  type ClaimResult,
  deliveryCounts,
  type EnqueueOutcome,
  type EnqueueRequest,
  enqueueEnvelope,
  enqueueInboundEnvelope,
  ensureGroup,
  type InboundBusyReason,
  type InboundEnqueueOutcome,
  type InboundEnqueueRequest,
  pendingOf,
  ReadGaveUpError,
  type ReadGroupRequest,
  readGroup,
  type StreamEntry,
} from "./redis/streams.js";
export {
  type BridgeConnectionConfig,
  DEFAULT_PARTITIONS,
  ensureTopology,
  type PartitionPlan,
  TopologyMismatchError,
} from "./redis/topology.js";
export { countWallet, WalletCount, walletCountField } from "./redis/wallet-counts.js";
