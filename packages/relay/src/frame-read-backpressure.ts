import type { Logger } from "@acapy-bridge/operability";
import type { RelayMetrics } from "./relay-metrics.js";
import type { SocketRegistry, TrackedSocket } from "./socket-registry.js";

/** Writes one received frame to Redis; settles once Redis answered (or failed). */
export type WriteFrame = (id: string, socket: TrackedSocket, body: Buffer, isBinary: boolean) => Promise<void>;

/**
 * Takes a socket's received frames to `writeFrame`, at most `maxFramesInFlight` at once. Each
 * write holds its frame (and its encoded copy) until Redis answers, which with Redis slow can take
 * up to the command timeout: at the cap, reading from the socket pauses, so a fast client meets TCP
 * backpressure instead of growing the relay's memory without bound.
 */
export class FrameReadBackpressure {
  constructor(
    private readonly sockets: SocketRegistry,
    private readonly maxFramesInFlight: number,
    private readonly writeFrame: WriteFrame,
    private readonly logger: Logger,
    private readonly metrics: RelayMetrics,
  ) {}

  /** A frame came in on the socket. */
  received(id: string, socket: TrackedSocket, body: Buffer, isBinary: boolean): void {
    socket.framesWaiting.push({ body, isBinary });
    this.writeWaiting(id, socket);
  }

  private writeWaiting(id: string, socket: TrackedSocket): void {
    const cap = this.maxFramesInFlight;
    while (socket.framesInFlight < cap) {
      const frame = socket.framesWaiting.shift();
      if (!frame) break;
      socket.framesInFlight++;
      this.sockets.framesInFlight++;
      void this.writeFrame(id, socket, frame.body, frame.isBinary).finally(() => {
        socket.framesInFlight--;
        this.sockets.framesInFlight--;
        this.writeWaiting(id, socket);
      });
    }
    if (socket.framesInFlight >= cap) {
      if (socket.readingPaused) return;
      socket.readingPaused = true;
      socket.ws.pause();
      this.metrics.readPauses.inc();
      this.logger.debug(
        { event: "relay.ws_read_paused", socket: id, framesInFlight: socket.framesInFlight },
        "frames in flight at the cap; reading from the socket paused",
      );
    } else if (socket.readingPaused && socket.framesWaiting.length === 0) {
      socket.readingPaused = false;
      socket.ws.resume();
    }
  }
}
