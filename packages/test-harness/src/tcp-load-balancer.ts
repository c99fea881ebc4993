import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A round-robin TCP load balancer on 127.0.0.1, like the one in front of a
 * relay tier: each new connection goes to the next backend that accepts it.
 */
export class TcpLoadBalancer {
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private backends: string[],
  ) {}

  static async start(backends: string[], port = 0): Promise<TcpLoadBalancer> {
    let balancer: TcpLoadBalancer | undefined;
    const server = createServer((client) => balancer?.accept(client));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
    const address = server.address();
    balancer = new TcpLoadBalancer(server, typeof address === "object" && address ? address.port : port, backends);
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setBackends(backends: string[]): void {
    this.backends = backends;
  }

  /**
   * `first` is the round-robin slot of the connection's first try; retries go on from there, so
   * each backend is tried once even while other connections advance the round robin meanwhile.
   */
  private accept(client: Socket, attempt = 0, first = this.next++): void {
    this.sockets.add(client);
    client.once("close", () => this.sockets.delete(client));
    if (this.backends.length === 0 || attempt >= this.backends.length) {
      client.destroy();
      return;
    }
    const target = this.backends[(first + attempt) % this.backends.length] as string;
    const [host, port] = target.split(":");
    client.pause();
    const upstream = connect(Number(port), host as string);
    this.sockets.add(upstream);
    upstream.once("close", () => this.sockets.delete(upstream));
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once("error", () => {
      if (connected) {
        client.destroy();
        return;
      }
      // Backend down: try the next one, as a health-checking balancer would.
      this.sockets.delete(client);
      this.accept(client, attempt + 1, first);
    });
    client.once("error", () => upstream.destroy());
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => {
      if (connected) client.destroy();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
