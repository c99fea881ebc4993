// Generated from proto/scripts/*.lua (their `--!` headers) by scripts/gen.mjs. Do not edit.
import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../redis/connection.js";
import { callScript, queueScriptCall, replyAsText, type ScriptValue, scriptBytes, scriptInt } from "../redis/scripts.js";

/** Keys and arguments of ack.lua. */
export interface AckCall {
  stream: string;
  group: string;
  ids: readonly string[];
}
export type AckReply = number;
function ackArgv(call: AckCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.stream, call.group];
  for (const v of call.ids) argv.push(v);
  return argv;
}
/** ack.lua: KEYS stream; ARGV group, ids... */
function ack(client: RedisClient, call: AckCall): Promise<AckReply> {
  return callScript(client, "ack", ackArgv(call), false) as Promise<AckReply>;
}

/** Keys and arguments of admin_claim.lua. */
export interface AdminClaimCall {
  stream: string;
  claim: string;
  entryId: string;
  claimant: string;
  ttlMs: number | bigint;
}
export type AdminClaimReply = number;
function adminClaimArgv(call: AdminClaimCall): ScriptValue[] {
  const argv: ScriptValue[] = [2, call.stream, call.claim, call.entryId, call.claimant, scriptInt(call.ttlMs)];
  return argv;
}
/** admin_claim.lua: KEYS stream, claim; ARGV entry_id, claimant, ttl_ms */
function adminClaim(client: RedisClient, call: AdminClaimCall): Promise<AdminClaimReply> {
  return callScript(client, "admin_claim", adminClaimArgv(call), false) as Promise<AdminClaimReply>;
}

/** Keys and arguments of admit.lua. */
export interface AdmitCall {
  lease: string;
  stream: string;
  park: string;
  owner: string;
  group: string;
  entryId: string;
  parkedJob: Uint8Array;
}
export type AdmitReply = ["GO"] | ["PARKED"] | ["FENCED"];
function admitArgv(call: AdmitCall): ScriptValue[] {
  const argv: ScriptValue[] = [3, call.lease, call.stream, call.park, call.owner, call.group, call.entryId, scriptBytes(call.parkedJob)];
  return argv;
}
/** admit.lua: KEYS lease, stream, park; ARGV owner, group, entry_id, parked_job */
function admit(client: RedisClient, call: AdmitCall): Promise<AdmitReply> {
  return callScript(client, "admit", admitArgv(call), false) as Promise<AdmitReply>;
}

/** Keys and arguments of bury.lua. */
export interface BuryCall {
  stream: string;
  deadLetters: string;
  group: string;
  entryId: string;
  entryField: string;
  deadLetter: Uint8Array;
  cap: number | bigint;
}
export type BuryReply = string;
function buryArgv(call: BuryCall): ScriptValue[] {
  const argv: ScriptValue[] = [2, call.stream, call.deadLetters, call.group, call.entryId, call.entryField, scriptBytes(call.deadLetter), scriptInt(call.cap)];
  return argv;
}
/** bury.lua: KEYS stream, dead_letters; ARGV group, entry_id, entry_field, dead_letter, cap */
function bury(client: RedisClient, call: BuryCall): Promise<BuryReply> {
  return callScript(client, "bury", buryArgv(call), false) as Promise<BuryReply>;
}

/** Keys and arguments of bury_parked.lua. */
export interface BuryParkedCall {
  lease: string;
  park: string;
  retry: string;
  deadLetters: string;
  owner: string;
  recipient: string;
  nowMs: number | bigint;
  entryField: string;
  deadLetter: Uint8Array;
  cap: number | bigint;
  headDigest: string;
}
export type BuryParkedReply = ["NEXT", deadLetterId: string] | ["EMPTY", deadLetterId: string] | ["FENCED"];
function buryParkedArgv(call: BuryParkedCall): ScriptValue[] {
  const argv: ScriptValue[] = [4, call.lease, call.park, call.retry, call.deadLetters, call.owner, call.recipient, scriptInt(call.nowMs), call.entryField, scriptBytes(call.deadLetter), scriptInt(call.cap), call.headDigest];
  return argv;
}
/** bury_parked.lua: KEYS lease, park, retry, dead_letters; ARGV owner, recipient, now_ms, entry_field, dead_letter, cap, head_digest */
function buryParked(client: RedisClient, call: BuryParkedCall): Promise<BuryParkedReply> {
  return callScript(client, "bury_parked", buryParkedArgv(call), false) as Promise<BuryParkedReply>;
}

/** Keys and arguments of defer.lua. */
export interface DeferCall {
  lease: string;
  stream: string;
  park: string;
  retry: string;
  owner: string;
  group: string;
  entryId: string;
  parkedJob: Uint8Array;
  dueMs: number | bigint;
  recipient: string;
}
export type DeferReply = ["OK"] | ["FENCED"];
function deferArgv(call: DeferCall): ScriptValue[] {
  const argv: ScriptValue[] = [4, call.lease, call.stream, call.park, call.retry, call.owner, call.group, call.entryId, scriptBytes(call.parkedJob), scriptInt(call.dueMs), call.recipient];
  return argv;
}
/** defer.lua: KEYS lease, stream, park, retry; ARGV owner, group, entry_id, parked_job, due_ms, recipient */
function defer(client: RedisClient, call: DeferCall): Promise<DeferReply> {
  return callScript(client, "defer", deferArgv(call), false) as Promise<DeferReply>;
}

/** Keys and arguments of enqueue.lua. */
export interface EnqueueCall {
  stream: string;
  seen?: string | undefined;
  entryField: string;
  envelope: Uint8Array;
  highWaterMark: number | bigint;
  seenTtlMs: number | bigint;
}
export type EnqueueReply = ["OK", entryId: string] | ["DUP", blank: string] | ["BUSY", backlog: string];
function enqueueArgv(call: EnqueueCall): ScriptValue[] {
  const argv: ScriptValue[] = [call.seen === undefined ? 1 : 2, call.stream];
  if (call.seen !== undefined) argv.push(call.seen);
  argv.push(call.entryField, scriptBytes(call.envelope), scriptInt(call.highWaterMark), scriptInt(call.seenTtlMs));
  return argv;
}
/** enqueue.lua: KEYS stream, seen?; ARGV entry_field, envelope, high_water_mark, seen_ttl_ms */
function enqueue(client: RedisClient, call: EnqueueCall): Promise<EnqueueReply> {
  return callScript(client, "enqueue", enqueueArgv(call), false) as Promise<EnqueueReply>;
}

/** Keys and arguments of fenced_ack.lua. */
export interface FencedAckCall {
  lease: string;
  stream: string;
  owner: string;
  group: string;
  ids: readonly string[];
}
export type FencedAckReply = ["OK", acked: number] | ["FENCED"];
function fencedAckArgv(call: FencedAckCall): ScriptValue[] {
  const argv: ScriptValue[] = [2, call.lease, call.stream, call.owner, call.group];
  for (const v of call.ids) argv.push(v);
  return argv;
}
/** fenced_ack.lua: KEYS lease, stream; ARGV owner, group, ids... */
function fencedAck(client: RedisClient, call: FencedAckCall): Promise<FencedAckReply> {
  return callScript(client, "fenced_ack", fencedAckArgv(call), false) as Promise<FencedAckReply>;
}

/** Keys and arguments of fenced_bury.lua. */
export interface FencedBuryCall {
  lease: string;
  stream: string;
  deadLetters: string;
  owner: string;
  group: string;
  entryId: string;
  entryField: string;
  deadLetter: Uint8Array;
  cap: number | bigint;
}
export type FencedBuryReply = ["OK", deadLetterId: string] | ["FENCED"];
function fencedBuryArgv(call: FencedBuryCall): ScriptValue[] {
  const argv: ScriptValue[] = [3, call.lease, call.stream, call.deadLetters, call.owner, call.group, call.entryId, call.entryField, scriptBytes(call.deadLetter), scriptInt(call.cap)];
  return argv;
}
/** fenced_bury.lua: KEYS lease, stream, dead_letters; ARGV owner, group, entry_id, entry_field, dead_letter, cap */
function fencedBury(client: RedisClient, call: FencedBuryCall): Promise<FencedBuryReply> {
  return callScript(client, "fenced_bury", fencedBuryArgv(call), false) as Promise<FencedBuryReply>;
}

/** Keys and arguments of inbound_enqueue.lua. */
export interface InboundEnqueueCall {
  stream: string;
  recipientCount: string;
  seen?: string | undefined;
  entryField: string;
  envelope: Uint8Array;
  highWaterMark: number | bigint;
  highWaterBytes: number | bigint;
  recipientCap: number | bigint;
  recipientWindowMs: number | bigint;
  seenTtlMs: number | bigint;
}
export type InboundEnqueueReply = ["OK", entryId: string] | ["DUP", blank: string] | ["BUSY", backlog: string] | ["BUSY_BYTES", bytes: string] | ["BUSY_RECIPIENT", accepted: string];
function inboundEnqueueArgv(call: InboundEnqueueCall): ScriptValue[] {
  const argv: ScriptValue[] = [call.seen === undefined ? 2 : 3, call.stream, call.recipientCount];
  if (call.seen !== undefined) argv.push(call.seen);
  argv.push(call.entryField, scriptBytes(call.envelope), scriptInt(call.highWaterMark), scriptInt(call.highWaterBytes), scriptInt(call.recipientCap), scriptInt(call.recipientWindowMs), scriptInt(call.seenTtlMs));
  return argv;
}
/** inbound_enqueue.lua: KEYS stream, recipient_count, seen?; ARGV entry_field, envelope, high_water_mark, high_water_bytes, recipient_cap, recipient_window_ms, seen_ttl_ms */
function inboundEnqueue(client: RedisClient, call: InboundEnqueueCall): Promise<InboundEnqueueReply> {
  return callScript(client, "inbound_enqueue", inboundEnqueueArgv(call), false) as Promise<InboundEnqueueReply>;
}

/** Keys and arguments of inbox_push.lua. */
export interface InboxPushCall {
  inbox: string;
  entryField: string;
  command: Uint8Array;
}
export type InboxPushReply = ["OK", entryId: string] | ["GONE", blank: string];
function inboxPushArgv(call: InboxPushCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.inbox, call.entryField, scriptBytes(call.command)];
  return argv;
}
/** inbox_push.lua: KEYS inbox; ARGV entry_field, command */
function inboxPush(client: RedisClient, call: InboxPushCall): Promise<InboxPushReply> {
  return callScript(client, "inbox_push", inboxPushArgv(call), false) as Promise<InboxPushReply>;
}

/** Keys and arguments of inbox_retire.lua. */
export interface InboxRetireCall {
  inbox: string;
}
export type InboxRetireReply = number;
function inboxRetireArgv(call: InboxRetireCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.inbox];
  return argv;
}
/** inbox_retire.lua: KEYS inbox; ARGV none */
function inboxRetire(client: RedisClient, call: InboxRetireCall): Promise<InboxRetireReply> {
  return callScript(client, "inbox_retire", inboxRetireArgv(call), false) as Promise<InboxRetireReply>;
}

/** Keys and arguments of lease_acquire.lua. */
export interface LeaseAcquireCall {
  lease: string;
  owner: string;
  ttlMs: number | bigint;
}
export type LeaseAcquireReply = ["OK"] | ["HELD", holder: string];
function leaseAcquireArgv(call: LeaseAcquireCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.lease, call.owner, scriptInt(call.ttlMs)];
  return argv;
}
/** lease_acquire.lua: KEYS lease; ARGV owner, ttl_ms */
function leaseAcquire(client: RedisClient, call: LeaseAcquireCall): Promise<LeaseAcquireReply> {
  return callScript(client, "lease_acquire", leaseAcquireArgv(call), false) as Promise<LeaseAcquireReply>;
}

/** Keys and arguments of lease_release.lua. */
export interface LeaseReleaseCall {
  lease: string;
  owner: string;
}
export type LeaseReleaseReply = number;
function leaseReleaseArgv(call: LeaseReleaseCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.lease, call.owner];
  return argv;
}
/** lease_release.lua: KEYS lease; ARGV owner */
function leaseRelease(client: RedisClient, call: LeaseReleaseCall): Promise<LeaseReleaseReply> {
  return callScript(client, "lease_release", leaseReleaseArgv(call), false) as Promise<LeaseReleaseReply>;
}

/** Keys and arguments of lease_renew.lua. */
export interface LeaseRenewCall {
  lease: string;
  owner: string;
  ttlMs: number | bigint;
}
export type LeaseRenewReply = number;
function leaseRenewArgv(call: LeaseRenewCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.lease, call.owner, scriptInt(call.ttlMs)];
  return argv;
}
/** lease_renew.lua: KEYS lease; ARGV owner, ttl_ms */
function leaseRenew(client: RedisClient, call: LeaseRenewCall): Promise<LeaseRenewReply> {
  return callScript(client, "lease_renew", leaseRenewArgv(call), false) as Promise<LeaseRenewReply>;
}

/** Keys and arguments of mailbox_offer.lua. */
export interface MailboxOfferCall {
  route: string;
  mailbox: string;
  pushDevice: string;
  pushWindow: string;
  pickup?: string | undefined;
  message: Uint8Array;
  cap: number | bigint;
  live: string;
  pushWindowMs?: number | bigint | undefined;
}
export type MailboxOfferReply = ["LIVE", route: Buffer] | ["MBOX", depth: number, route: Buffer, push: Buffer] | ["FULL", depth: number] | ["PICKUP", depth: number, route: Buffer, pickup: Buffer, push: Buffer];
function mailboxOfferArgv(call: MailboxOfferCall): ScriptValue[] {
  const argv: ScriptValue[] = [call.pickup === undefined ? 4 : 5, call.route, call.mailbox, call.pushDevice, call.pushWindow];
  if (call.pickup !== undefined) argv.push(call.pickup);
  argv.push(scriptBytes(call.message), scriptInt(call.cap), call.live);
  if (call.pushWindowMs !== undefined) argv.push(scriptInt(call.pushWindowMs));
  return argv;
}
/** mailbox_offer.lua: KEYS route, mailbox, push_device, push_window, pickup?; ARGV message, cap, live, push_window_ms? */
async function mailboxOffer(client: RedisClient, call: MailboxOfferCall): Promise<MailboxOfferReply> {
  return replyAsText((await callScript(client, "mailbox_offer", mailboxOfferArgv(call), true)) as unknown[], []) as MailboxOfferReply;
}

/** Keys and arguments of mailbox_take.lua. */
export interface MailboxTakeCall {
  mailbox: string;
  head: Uint8Array;
  count: number | bigint;
}
export type MailboxTakeReply = number;
function mailboxTakeArgv(call: MailboxTakeCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.mailbox, scriptBytes(call.head), scriptInt(call.count)];
  return argv;
}
/** mailbox_take.lua: KEYS mailbox; ARGV head, count */
function mailboxTake(client: RedisClient, call: MailboxTakeCall): Promise<MailboxTakeReply> {
  return callScript(client, "mailbox_take", mailboxTakeArgv(call), false) as Promise<MailboxTakeReply>;
}

/** Keys and arguments of pickup_ack.lua. */
export interface PickupAckCall {
  mailbox: string;
  sent: string;
  mids: readonly string[];
}
export type PickupAckReply = [removed: number, depth: number];
function pickupAckArgv(call: PickupAckCall): ScriptValue[] {
  const argv: ScriptValue[] = [2, call.mailbox, call.sent];
  for (const v of call.mids) argv.push(v);
  return argv;
}
/** pickup_ack.lua: KEYS mailbox, sent; ARGV mids... */
function pickupAck(client: RedisClient, call: PickupAckCall): Promise<PickupAckReply> {
  return callScript(client, "pickup_ack", pickupAckArgv(call), false) as Promise<PickupAckReply>;
}

/** Keys and arguments of pickup_claim.lua. */
export interface PickupClaimCall {
  mailbox: string;
  sent: string;
  epoch: string;
  ttlMs: number | bigint;
  fromTail: string;
  mids: readonly string[];
}
export type PickupClaimReply = string;
function pickupClaimArgv(call: PickupClaimCall): ScriptValue[] {
  const argv: ScriptValue[] = [2, call.mailbox, call.sent, call.epoch, scriptInt(call.ttlMs), call.fromTail];
  for (const v of call.mids) argv.push(v);
  return argv;
}
/** pickup_claim.lua: KEYS mailbox, sent; ARGV epoch, ttl_ms, from_tail, mids... */
function pickupClaim(client: RedisClient, call: PickupClaimCall): Promise<PickupClaimReply> {
  return callScript(client, "pickup_claim", pickupClaimArgv(call), false) as Promise<PickupClaimReply>;
}

/** Keys and arguments of push_device_clear.lua. */
export interface PushDeviceClearCall {
  pushDevice: string;
  device: Uint8Array;
}
export type PushDeviceClearReply = number;
function pushDeviceClearArgv(call: PushDeviceClearCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.pushDevice, scriptBytes(call.device)];
  return argv;
}
/** push_device_clear.lua: KEYS push_device; ARGV device */
function pushDeviceClear(client: RedisClient, call: PushDeviceClearCall): Promise<PushDeviceClearReply> {
  return callScript(client, "push_device_clear", pushDeviceClearArgv(call), false) as Promise<PushDeviceClearReply>;
}

/** Keys and arguments of retry_fail.lua. */
export interface RetryFailCall {
  lease: string;
  park: string;
  retry: string;
  owner: string;
  recipient: string;
  parkedJob: Uint8Array;
  dueMs: number | bigint;
}
export type RetryFailReply = ["OK"] | ["EMPTY"] | ["FENCED"];
function retryFailArgv(call: RetryFailCall): ScriptValue[] {
  const argv: ScriptValue[] = [3, call.lease, call.park, call.retry, call.owner, call.recipient, scriptBytes(call.parkedJob), scriptInt(call.dueMs)];
  return argv;
}
/** retry_fail.lua: KEYS lease, park, retry; ARGV owner, recipient, parked_job, due_ms */
function retryFail(client: RedisClient, call: RetryFailCall): Promise<RetryFailReply> {
  return callScript(client, "retry_fail", retryFailArgv(call), false) as Promise<RetryFailReply>;
}

/** Keys and arguments of retry_ok.lua. */
export interface RetryOkCall {
  lease: string;
  park: string;
  retry: string;
  owner: string;
  recipient: string;
  nowMs: number | bigint;
  headDigest?: string | undefined;
}
export type RetryOkReply = ["NEXT", removed: number] | ["EMPTY", removed: number] | ["FENCED"];
function retryOkArgv(call: RetryOkCall): ScriptValue[] {
  const argv: ScriptValue[] = [3, call.lease, call.park, call.retry, call.owner, call.recipient, scriptInt(call.nowMs)];
  if (call.headDigest !== undefined) argv.push(call.headDigest);
  return argv;
}
/** retry_ok.lua: KEYS lease, park, retry; ARGV owner, recipient, now_ms, head_digest? */
function retryOk(client: RedisClient, call: RetryOkCall): Promise<RetryOkReply> {
  return callScript(client, "retry_ok", retryOkArgv(call), false) as Promise<RetryOkReply>;
}

/** Keys and arguments of route_clear.lua. */
export interface RouteClearCall {
  route: string;
  relayId: string;
  socketId: string;
}
export type RouteClearReply = number;
function routeClearArgv(call: RouteClearCall): ScriptValue[] {
  const argv: ScriptValue[] = [1, call.route, call.relayId, call.socketId];
  return argv;
}
/** route_clear.lua: KEYS route; ARGV relay_id, socket_id */
function routeClear(client: RedisClient, call: RouteClearCall): Promise<RouteClearReply> {
  return callScript(client, "route_clear", routeClearArgv(call), false) as Promise<RouteClearReply>;
}

/** Keys and arguments of route_set.lua. */
export interface RouteSetCall {
  route: string;
  pickup?: string | undefined;
  walletRoute: Uint8Array;
  epoch: number | bigint;
  ttlMs: number | bigint;
}
export type RouteSetReply = ["SET", replacedEpoch: string, pickup: string] | ["STALE", storedEpoch: string];
function routeSetArgv(call: RouteSetCall): ScriptValue[] {
  const argv: ScriptValue[] = [call.pickup === undefined ? 1 : 2, call.route];
  if (call.pickup !== undefined) argv.push(call.pickup);
  argv.push(scriptBytes(call.walletRoute), scriptInt(call.epoch), scriptInt(call.ttlMs));
  return argv;
}
/** route_set.lua: KEYS route, pickup?; ARGV wallet_route, epoch, ttl_ms */
function routeSet(client: RedisClient, call: RouteSetCall): Promise<RouteSetReply> {
  return callScript(client, "route_set", routeSetArgv(call), false) as Promise<RouteSetReply>;
}

/** Keys and arguments of write_batch.lua. */
export interface WriteBatchCall {
  keys: readonly string[];
  ops: readonly Uint8Array[];
}
export type WriteBatchReply = ["OK", gone: number] | ["BUSY", at: number, backlog: number];
function writeBatchArgv(call: WriteBatchCall): ScriptValue[] {
  const argv: ScriptValue[] = [call.keys.length, ...call.keys];
  for (const v of call.ops) argv.push(scriptBytes(v));
  return argv;
}
/** write_batch.lua: KEYS keys...; ARGV ops... */
function writeBatch(client: RedisClient, call: WriteBatchCall): Promise<WriteBatchReply> {
  return callScript(client, "write_batch", writeBatchArgv(call), false) as Promise<WriteBatchReply>;
}

/** The contract's scripts, one typed call each (EVALSHA with EVAL fallback; all keys in one slot). */
export const lua = {
  ack,
  adminClaim,
  admit,
  bury,
  buryParked,
  defer,
  enqueue,
  fencedAck,
  fencedBury,
  inboundEnqueue,
  inboxPush,
  inboxRetire,
  leaseAcquire,
  leaseRelease,
  leaseRenew,
  mailboxOffer,
  mailboxTake,
  pickupAck,
  pickupClaim,
  pushDeviceClear,
  retryFail,
  retryOk,
  routeClear,
  routeSet,
  writeBatch,
} as const;

/** Each script's keys (fields of its call), in KEYS order: what must share one hash slot. */
export const luaKeys = {
  ack: ["stream"],
  adminClaim: ["stream", "claim"],
  admit: ["lease", "stream", "park"],
  bury: ["stream", "deadLetters"],
  buryParked: ["lease", "park", "retry", "deadLetters"],
  defer: ["lease", "stream", "park", "retry"],
  enqueue: ["stream", "seen"],
  fencedAck: ["lease", "stream"],
  fencedBury: ["lease", "stream", "deadLetters"],
  inboundEnqueue: ["stream", "recipientCount", "seen"],
  inboxPush: ["inbox"],
  inboxRetire: ["inbox"],
  leaseAcquire: ["lease"],
  leaseRelease: ["lease"],
  leaseRenew: ["lease"],
  mailboxOffer: ["route", "mailbox", "pushDevice", "pushWindow", "pickup"],
  mailboxTake: ["mailbox"],
  pickupAck: ["mailbox", "sent"],
  pickupClaim: ["mailbox", "sent"],
  pushDeviceClear: ["pushDevice"],
  retryFail: ["lease", "park", "retry"],
  retryOk: ["lease", "park", "retry"],
  routeClear: ["route"],
  routeSet: ["route", "pickup"],
  writeBatch: ["keys"],
} as const;

/** The same calls queued on a pipeline of a client that has had `registerScripts`; replies come with `exec`. */
export const luaPipeline = {
  ack: (pipeline: ChainableCommander, call: AckCall): ChainableCommander =>
    queueScriptCall(pipeline, "ack", ackArgv(call)),
  adminClaim: (pipeline: ChainableCommander, call: AdminClaimCall): ChainableCommander =>
    queueScriptCall(pipeline, "admin_claim", adminClaimArgv(call)),
  admit: (pipeline: ChainableCommander, call: AdmitCall): ChainableCommander =>
    queueScriptCall(pipeline, "admit", admitArgv(call)),
  bury: (pipeline: ChainableCommander, call: BuryCall): ChainableCommander =>
    queueScriptCall(pipeline, "bury", buryArgv(call)),
  buryParked: (pipeline: ChainableCommander, call: BuryParkedCall): ChainableCommander =>
    queueScriptCall(pipeline, "bury_parked", buryParkedArgv(call)),
  defer: (pipeline: ChainableCommander, call: DeferCall): ChainableCommander =>
    queueScriptCall(pipeline, "defer", deferArgv(call)),
  enqueue: (pipeline: ChainableCommander, call: EnqueueCall): ChainableCommander =>
    queueScriptCall(pipeline, "enqueue", enqueueArgv(call)),
  fencedAck: (pipeline: ChainableCommander, call: FencedAckCall): ChainableCommander =>
    queueScriptCall(pipeline, "fenced_ack", fencedAckArgv(call)),
  fencedBury: (pipeline: ChainableCommander, call: FencedBuryCall): ChainableCommander =>
    queueScriptCall(pipeline, "fenced_bury", fencedBuryArgv(call)),
  inboundEnqueue: (pipeline: ChainableCommander, call: InboundEnqueueCall): ChainableCommander =>
    queueScriptCall(pipeline, "inbound_enqueue", inboundEnqueueArgv(call)),
  inboxPush: (pipeline: ChainableCommander, call: InboxPushCall): ChainableCommander =>
    queueScriptCall(pipeline, "inbox_push", inboxPushArgv(call)),
  inboxRetire: (pipeline: ChainableCommander, call: InboxRetireCall): ChainableCommander =>
    queueScriptCall(pipeline, "inbox_retire", inboxRetireArgv(call)),
  leaseAcquire: (pipeline: ChainableCommander, call: LeaseAcquireCall): ChainableCommander =>
    queueScriptCall(pipeline, "lease_acquire", leaseAcquireArgv(call)),
  leaseRelease: (pipeline: ChainableCommander, call: LeaseReleaseCall): ChainableCommander =>
    queueScriptCall(pipeline, "lease_release", leaseReleaseArgv(call)),
  leaseRenew: (pipeline: ChainableCommander, call: LeaseRenewCall): ChainableCommander =>
    queueScriptCall(pipeline, "lease_renew", leaseRenewArgv(call)),
  mailboxOffer: (pipeline: ChainableCommander, call: MailboxOfferCall): ChainableCommander =>
    queueScriptCall(pipeline, "mailbox_offer", mailboxOfferArgv(call)),
  mailboxTake: (pipeline: ChainableCommander, call: MailboxTakeCall): ChainableCommander =>
    queueScriptCall(pipeline, "mailbox_take", mailboxTakeArgv(call)),
  pickupAck: (pipeline: ChainableCommander, call: PickupAckCall): ChainableCommander =>
    queueScriptCall(pipeline, "pickup_ack", pickupAckArgv(call)),
  pickupClaim: (pipeline: ChainableCommander, call: PickupClaimCall): ChainableCommander =>
    queueScriptCall(pipeline, "pickup_claim", pickupClaimArgv(call)),
  pushDeviceClear: (pipeline: ChainableCommander, call: PushDeviceClearCall): ChainableCommander =>
    queueScriptCall(pipeline, "push_device_clear", pushDeviceClearArgv(call)),
  retryFail: (pipeline: ChainableCommander, call: RetryFailCall): ChainableCommander =>
    queueScriptCall(pipeline, "retry_fail", retryFailArgv(call)),
  retryOk: (pipeline: ChainableCommander, call: RetryOkCall): ChainableCommander =>
    queueScriptCall(pipeline, "retry_ok", retryOkArgv(call)),
  routeClear: (pipeline: ChainableCommander, call: RouteClearCall): ChainableCommander =>
    queueScriptCall(pipeline, "route_clear", routeClearArgv(call)),
  routeSet: (pipeline: ChainableCommander, call: RouteSetCall): ChainableCommander =>
    queueScriptCall(pipeline, "route_set", routeSetArgv(call)),
  writeBatch: (pipeline: ChainableCommander, call: WriteBatchCall): ChainableCommander =>
    queueScriptCall(pipeline, "write_batch", writeBatchArgv(call)),
} as const;
