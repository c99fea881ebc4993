import { createServer, type Server } from "node:http";
import WebSocket from "ws";
import { DIDCOMM_ENVELOPE_MEDIA_TYPE } from "./envelope.js";

export interface HttpDelivery {
  status: number;
  contentType: string | null;
  /** Empty unless the receiver answered on this request (return_route). */
  body: Uint8Array;
}

/** POSTs one packed envelope the way agents deliver to an HTTP endpoint. */
export async function postEnvelope(
  endpoint: string,
  envelope: Uint8Array,
  opts: { timeoutMs?: number } = {},
): Promise<HttpDelivery> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "Content-Type": DIDCOMM_ENVELOPE_MEDIA_TYPE },
    body: envelope,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

/**
 * A DIDComm WebSocket that queues every inbound frame, so a test can send and then await
 * frames in order without racing the socket's events. ACA-Py sends envelopes as text frames
 * (binary if its outbound payload was bytes); both arrive here as bytes.
 */
export class DidcommWebSocket {
  private readonly frames: Uint8Array[] = [];
  private readonly waiters: Array<(frame: Uint8Array | Error) => void> = [];
  private closedWith: Error | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const frame = new Uint8Array(toBytes(data));
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
    socket.on("close", (code, reason) => this.fail(new Error(`websocket closed (${code} ${reason.toString()})`)));
    socket.on("error", (err) => this.fail(err));
  }

  static connect(url: string, opts: { timeoutMs?: number } = {}): Promise<DidcommWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: opts.timeoutMs ?? 10_000 });
      socket.once("open", () => resolve(new DidcommWebSocket(socket)));
      socket.once("error", reject);
    });
  }

  send(envelope: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(envelope, { binary: true }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** The next frame, waiting up to `timeoutMs`. */
  receive(timeoutMs = 10_000): Promise<Uint8Array> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const waiter = (frame: Uint8Array | Error) => {
        clearTimeout(timer);
        if (frame instanceof Error) reject(frame);
        else resolve(frame);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no websocket frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Frames that arrive until `count` are in hand or nothing arrives for `idleMs`. */
  async collect(opts: { count?: number; idleMs?: number } = {}): Promise<Uint8Array[]> {
    const collected: Uint8Array[] = [];
    const count = opts.count ?? Number.POSITIVE_INFINITY;
    while (collected.length < count) {
      try {
        collected.push(await this.receive(opts.idleMs ?? 2_000));
      } catch {
        break;
      }
    }
    return collected;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close();
      // A peer that never answers the close handshake must not hang the test run.
      setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 2_000).unref();
    });
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    for (const waiter of this.waiters.splice(0)) waiter(err);
  }
}

/** Opens a socket, sends one envelope and returns the frames received before the socket goes idle. */
export async function exchangeOverWebSocket(
  url: string,
  envelope: Uint8Array,
  opts: { count?: number; idleMs?: number } = {},
): Promise<Uint8Array[]> {
  const socket = await DidcommWebSocket.connect(url);
  try {
    await socket.send(envelope);
    return await socket.collect(opts);
  } finally {
    await socket.close();
  }
}

function toBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * An HTTP endpoint on 127.0.0.1 that accepts DIDComm POSTs (answering 200 with no body) and
 * queues them, so a test agent can be given an endpoint ACA-Py delivers to.
 */
export class HttpInbox {
  private readonly queued: Uint8Array[] = [];
  private readonly waiters: Array<(envelope: Uint8Array) => void> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(opts: { port?: number } = {}): Promise<HttpInbox> {
    let inbox: HttpInbox | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        res.writeHead(req.method === "POST" ? 200 : 405).end();
        if (req.method === "POST") inbox?.deliver(new Uint8Array(Buffer.concat(chunks)));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, "127.0.0.1", resolve);
    });
    const address = server.address();
    if (!address || typeof address !== "object") throw new Error("inbox server has no address");
    inbox = new HttpInbox(server, `http://127.0.0.1:${address.port}`);
    return inbox;
  }

  /** The next envelope POSTed here, waiting up to `timeoutMs`. */
  next(timeoutMs = 10_000): Promise<Uint8Array> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (envelope: Uint8Array) => {
        clearTimeout(timer);
        resolve(envelope);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`nothing POSTed to ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private deliver(envelope: Uint8Array): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(envelope);
    else this.queued.push(envelope);
  }
}
