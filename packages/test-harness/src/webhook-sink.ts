import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./wait-for.js";

export interface ReceivedWebhook {
  path: string;
  topic: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  at: number;
}

/** An HTTP server that records ACA-Py-style webhooks: POST {base}/topic/{topic}/. */
export class WebhookSink {
  readonly received: ReceivedWebhook[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(statusFor?: (path: string) => number): Promise<WebhookSink> {
    const received: ReceivedWebhook[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        const status = statusFor?.(path) ?? 200;
        if (status < 300) {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
          } catch {
            body = { raw: Buffer.concat(chunks).toString() };
          }
          const topic = path.match(/\/topic\/([^/]+)\/?$/)?.[1] ?? "";
          received.push({ path, topic, headers: req.headers, body, at: Date.now() });
        }
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const { port } = server.address() as AddressInfo;
    const sink = new WebhookSink(server, `http://127.0.0.1:${port}`);
    (sink as { received: ReceivedWebhook[] }).received = received;
    return sink;
  }

  byTopic(topic: string): ReceivedWebhook[] {
    return this.received.filter((w) => w.topic === topic);
  }

  async waitFor(
    what: string,
    predicate: (w: ReceivedWebhook) => boolean,
    timeoutMs = 30_000,
  ): Promise<ReceivedWebhook> {
    return waitFor(what, () => this.received.find(predicate), timeoutMs);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
