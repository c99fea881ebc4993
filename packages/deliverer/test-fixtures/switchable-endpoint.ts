// An HTTP endpoint in front of a real agent that can be switched off (connections
// refused: nothing listens on the port) and on again, and that can hold each
// answer until the agent has visibly processed the message (so the agent's own
// concurrency cannot reorder what arrived in order).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export class SwitchableEndpoint {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Runs after the agent answered and before the deliverer gets the answer. */
  afterForward: (() => Promise<void>) | undefined;
  forwarded = 0;

  constructor(
    readonly port: number,
    private readonly target: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.forward(req, res));
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts open connections: the endpoint refuses connections until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const answer = await fetch(`${this.target}${req.url ?? "/"}`, {
        method: req.method ?? "POST",
        headers: { "content-type": req.headers["content-type"] ?? "application/octet-stream" },
        body: req.method === "GET" ? undefined : Buffer.concat(chunks),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      this.forwarded++;
      if (answer.ok && this.afterForward) await this.afterForward();
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" }).end(body);
    } catch {
      res.writeHead(502).end();
    }
  }
}
