import type { Logger } from "@acapy-bridge/operability";
import type { RelayMetrics } from "./relay-metrics.js";
import type { RelayConfig } from "./relay-options.js";
import type { SocketRegistry } from "./socket-registry.js";

/** Ticks the heartbeat round is spread over. */
const HEARTBEAT_TICKS_PER_ROUND = 30;

/**
 * The timer that drives the registry's heartbeat rounds, and reports what they swept. It ticks
 * only while sockets are open: a relay without any (an HTTP-only deployment, a quiet hour) would
 * otherwise wake up for it ten times a second for nothing.
 */
export class SocketHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly sockets: SocketRegistry,
    private readonly config: Pick<RelayConfig, "wsHeartbeatMs" | "wsIdleTimeoutMs">,
    private readonly logger: Logger,
    private readonly metrics: RelayMetrics,
  ) {}

  start(): void {
    this.started = true;
    if (this.sockets.size > 0) this.ensureRunning();
  }

  /** A socket opened: the heartbeat runs (once started) until none is left. */
  ensureRunning(): void {
    if (this.timer || !this.started) return;
    const { wsHeartbeatMs, wsIdleTimeoutMs } = this.config;
    this.timer = setInterval(
      () => {
        const { terminated, idle, stillReceiving } = this.sockets.heartbeatTick(wsHeartbeatMs, wsIdleTimeoutMs);
        if (terminated + idle > 0) {
          this.logger.info({ event: "relay.ws_swept", terminated, idle }, "closed dead or idle sockets");
        }
        if (stillReceiving > 0) {
          this.metrics.latePongsStillReceiving.inc(stillReceiving);
          this.logger.debug(
            { event: "relay.ws_pong_late_still_receiving", sockets: stillReceiving },
            "pong late behind a transfer still reaching the wallet; socket kept",
          );
        }
        if (this.sockets.size === 0) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
      Math.max(10, Math.floor(wsHeartbeatMs / HEARTBEAT_TICKS_PER_ROUND)),
    );
    this.timer.unref();
  }

  stop(): void {
    this.started = false;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
