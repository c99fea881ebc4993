import type { RedisClient } from "@acapy-bridge/protocol";
import type { PartitionScripts } from "./partition-scripts.js";

/** Entry ids per fenced script call (keeps a single script run, and its reply, short). */
const MAX_IDS_PER_CALL = 500;

interface Waiting {
  id: string;
  done: (error?: unknown) => void;
}

/**
 * Partitions whose acknowledgements travel together: every partition on a
 * standalone Redis (one server, one connection), each partition on its own on
 * a Cluster (so that a slow node delays only its own partitions).
 */
interface AckGroup {
  /** Acknowledgements waiting, by partition. */
  waiting: Map<PartitionScripts, Waiting[]>;
  /** Calls on their way to Redis, not yet answered. */
  unanswered: number;
}

/**
 * Acknowledges delivered jobs with few Redis calls (group commit): while a
 * group's calls are on their way, its next acknowledgements gather, and leave
 * together once those have been answered; with none on the way they leave at
 * the end of the event-loop turn. Each call is still one fenced script over
 * one partition's slot. Under load a call carries many acknowledgements;
 * alone, one waits at most one round trip more.
 *
 * On a standalone Redis the calls of a round are written in one socket write
 * (the socket is corked meanwhile): on a loopback or LAN connection the write
 * costs more than the rest of the call. Not an ioredis pipeline: a pipeline
 * sends a script's whole source (EVAL) every time, single calls its hash.
 */
export class AckBatcher {
  private readonly standalone: boolean;
  private readonly shared: AckGroup = { waiting: new Map(), unanswered: 0 };
  private readonly byPartition = new Map<PartitionScripts, AckGroup>();
  /** Groups with acknowledgements waiting and no call on the way. */
  private ready = new Set<AckGroup>();
  private scheduled = false;

  constructor(private readonly client: RedisClient) {
    this.standalone = !(client as { isCluster?: boolean }).isCluster;
  }

  /** Resolves once the entry is acknowledged; rejects with FencedError when the lease is gone. */
  ack(scripts: PartitionScripts, id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const group = this.groupOf(scripts);
      let waiting = group.waiting.get(scripts);
      if (!waiting) {
        waiting = [];
        group.waiting.set(scripts, waiting);
      }
      waiting.push({ id, done: (error) => (error ? reject(error) : resolve()) });
      if (group.unanswered === 0) this.markReady(group);
    });
  }

  private groupOf(scripts: PartitionScripts): AckGroup {
    if (this.standalone) return this.shared;
    let group = this.byPartition.get(scripts);
    if (!group) {
      group = { waiting: new Map(), unanswered: 0 };
      this.byPartition.set(scripts, group);
    }
    return group;
  }

  private markReady(group: AckGroup): void {
    this.ready.add(group);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const ready = this.ready;
    this.ready = new Set();
    const socket = this.standaloneSocket();
    socket?.cork();
    try {
      for (const group of ready) this.send(group);
    } finally {
      socket?.uncork();
    }
  }

  private send(group: AckGroup): void {
    for (const [scripts, waiting] of group.waiting) {
      const entries = waiting.splice(0, MAX_IDS_PER_CALL);
      if (waiting.length === 0) group.waiting.delete(scripts);
      group.unanswered++;
      scripts.ack(entries.map((e) => e.id)).then(
        () => this.answered(group, scripts, entries),
        (error) => this.answered(group, scripts, entries, error),
      );
    }
  }

  private answered(group: AckGroup, scripts: PartitionScripts, entries: Waiting[], error?: unknown): void {
    group.unanswered--;
    for (const e of entries) e.done(error);
    if (group.unanswered > 0) return;
    if (group.waiting.size > 0) this.markReady(group);
    // Forgotten when idle, so that partitions given up (leases moved on) do not linger.
    else if (group !== this.shared) this.byPartition.delete(scripts);
  }

  /** The standalone client's socket while it is connected; undefined on a Cluster. */
  private standaloneSocket(): { cork(): void; uncork(): void } | undefined {
    const client = this.client as { status?: string; stream?: { cork(): void; uncork(): void } };
    return this.standalone && client.status === "ready" ? client.stream : undefined;
  }
}
