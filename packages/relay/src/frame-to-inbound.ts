import { InboundKind, newMessageId, Transport } from "@acapy-bridge/protocol";
import { CLOSE } from "./close-codes.js";
import { bodyDigest, inspectEnvelope } from "./envelope-recipient.js";
import { agentMessage, BUSY_DETAIL, BUSY_OUTCOME } from "./inbound-writer.js";
import type { RelayContext } from "./relay-context.js";
import type { TrackedSocket } from "./socket-registry.js";

/**
 * One WebSocket frame, one DIDComm message: written to the inbound partitions with its socket's id
 * and session epoch, so that ACA-Py's replies come back down the same socket. A frame that is not
 * an envelope closes the socket with 1003; one that cannot be queued (partition full, Redis down)
 * with 1013; one that comes during shutdown with 1001.
 */
export async function writeFrameToInbound(
  ctx: RelayContext,
  id: string,
  socket: TrackedSocket,
  body: Buffer,
  isBinary: boolean,
): Promise<void> {
  const { ws, remote } = socket;
  if (ctx.draining) {
    ws.close(CLOSE.goingAway, "relay shutting down");
    ctx.metrics.requests.inc({ transport: "ws", outcome: "shutting_down" });
    return;
  }
  const inspection = inspectEnvelope(body);
  if (!inspection.ok) {
    ctx.rejections.warn(
      `ws:rejected:${inspection.reason}`,
      { event: "relay.rejected", transport: "ws", reason: inspection.reason, bytes: body.length, socket: id, remote },
      `rejected frame: ${inspection.detail}; closing with 1003`,
    );
    ctx.metrics.requests.inc({ transport: "ws", outcome: "bad_request" });
    ws.close(CLOSE.unsupportedData, inspection.reason);
    return;
  }
  const mid = newMessageId();
  const now = Date.now();
  const message = agentMessage({
    mid,
    kind: InboundKind.AGENT_MESSAGE,
    recipientKey: inspection.routingKey,
    // ACA-Py's ws transport hands text frames to ACA-Py as str, binary ones as bytes.
    contentType: isBinary ? "application/didcomm-envelope-enc" : "application/json",
    body,
    receivedAtMs: BigInt(now),
    expiresAtMs: ctx.config.inboundTtlMs > 0 ? BigInt(now + ctx.config.inboundTtlMs) : 0n,
    transport: Transport.WEBSOCKET,
    relayId: ctx.relayId,
    socketId: id,
    sessionEpoch: socket.epoch,
    remoteAddress: remote,
  });
  try {
    const written = await ctx.writer.write(message, bodyDigest(body));
    ctx.metrics.enqueueSeconds.observe({ transport: "ws" }, written.seconds);
    if (written.outcome.status === "busy") {
      const { reason, amount } = written.outcome;
      ctx.rejections.warn(
        `ws:${BUSY_OUTCOME[reason]}`,
        {
          event: "relay.partition_full",
          transport: "ws",
          mid,
          socket: id,
          partition: written.partition,
          reason,
          amount,
        },
        `${BUSY_DETAIL[reason]}; closing with 1013`,
      );
      ctx.metrics.requests.inc({ transport: "ws", outcome: BUSY_OUTCOME[reason] });
      ws.close(CLOSE.tryAgainLater, "busy, try again later");
      return;
    }
    ctx.metrics.requests.inc({
      transport: "ws",
      outcome: written.outcome.status === "duplicate" ? "duplicate" : "queued",
    });
  } catch (error) {
    ctx.rejections.error(
      "ws:redis_unavailable",
      { event: "relay.redis_unavailable", transport: "ws", mid, socket: id, err: (error as Error).message },
      "could not write the frame to Redis; closing with 1013",
    );
    ctx.metrics.requests.inc({ transport: "ws", outcome: "redis_unavailable" });
    ws.close(CLOSE.tryAgainLater, "try again later");
  }
}
