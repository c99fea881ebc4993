// The test side of a Credo wallet process: starts it, sends it commands, collects what it receives,
// and freezes or kills it like an OS would a backgrounded phone app.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, killChildrenOnExit, trackChild, waitFor } from "@acapy-bridge/test-harness";
import type {
  PickupDeliveryReceived,
  ReceivedBasicMessage,
  WalletCommand,
  WalletSettings,
} from "./credo-wallet-process.js";

const interopRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(interopRoot, "../..");
const WALLET_PROCESS = join(interopRoot, "src/credo-wallet-process.ts");
/** Where scripts/setup-credo.sh unpacks libaries_askar.so from the aries-askar wheel. */
export const ASKAR_LIBRARY_DIR = join(interopRoot, "node_modules/.askar-native/aries_askar");

/** True once scripts/setup-credo.sh has installed Credo and its native parts. */
export function credoInstalled(): boolean {
  return (
    existsSync(join(ASKAR_LIBRARY_DIR, "libaries_askar.so")) &&
    existsSync(join(interopRoot, "node_modules/@2060.io/ffi-napi/build/Release/ffi_bindings.node"))
  );
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type Event = ReceivedBasicMessage | PickupDeliveryReceived | { event: "processReady" };

export class CredoWallet {
  readonly received: ReceivedBasicMessage[] = [];
  /** Message Pickup 2.0 deliveries the wallet processed (live pushes and answers to delivery-request). */
  readonly deliveries: PickupDeliveryReceived[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private stderrTail = "";

  private child!: ChildProcess;

  private constructor(
    private readonly settings: WalletSettings,
    private readonly home: string,
  ) {}

  get label(): string {
    return this.settings.label;
  }

  /** Starts the process and the agent; resolves once the mediator granted mediation and pickup started. */
  static async start(settings: WalletSettings, startTimeoutMs = 90_000): Promise<CredoWallet> {
    if (!credoInstalled()) throw new Error("Credo-ts is not installed: run scripts/setup.sh");
    killChildrenOnExit();
    const wallet = new CredoWallet(settings, mkdtempSync(join(tmpdir(), `credo-${settings.label}-`)));
    try {
      await wallet.launch(startTimeoutMs);
    } catch (error) {
      await wallet.kill();
      throw error;
    }
    return wallet;
  }

  /** A new wallet process on the same wallet files (same HOME), started like the first. */
  private async launch(startTimeoutMs: number): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", WALLET_PROCESS], {
      cwd: repoRoot,
      // Credo keeps its wallet under $HOME/.afj: a temporary HOME per wallet.
      env: { ...process.env, HOME: this.home, LIB_ARIES_ASKAR_PATH: ASKAR_LIBRARY_DIR },
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    trackChild(child);
    this.child = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-20_000);
      if (process.env.CREDO_TEST_LOGS) process.stderr.write(`[${this.label}] ${chunk}`);
    });
    child.on("message", (message: Reply | Event) => this.onMessage(message));
    child.on("exit", (code, signal) => {
      for (const { reject } of this.pending.values()) {
        reject(new Error(`Credo wallet ${this.label} exited (${code ?? signal}):\n${this.stderrTail}`));
      }
      this.pending.clear();
    });
    await this.request({ command: "start", settings: this.settings }, startTimeoutMs);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last Credo log lines (stderr), for failure messages. */
  get logs(): string {
    return this.stderrTail;
  }

  private onMessage(message: Reply | Event): void {
    if ("event" in message) {
      if (message.event === "basicMessage") this.received.push(message);
      if (message.event === "pickupDelivery") this.deliveries.push(message);
      return;
    }
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`Credo wallet ${this.label}: ${message.error}`));
  }

  request<T = unknown>(command: WalletCommand, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Credo wallet ${this.label}: ${command.command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ id, ...command });
    });
  }

  /** Accepts an out-of-band invitation URL; resolves with the wallet's connection id once it is completed. */
  async acceptInvitation(invitationUrl: string): Promise<string> {
    const { connectionId } = await this.request<{ connectionId: string }>({
      command: "acceptInvitation",
      invitationUrl,
    });
    return connectionId;
  }

  /** Pickup 2.0 status-request and delivery loop; resolves when Credo reports the pickup completed. */
  async pickupMessages(timeoutMs = 10_000): Promise<number> {
    const { completedInMs } = await this.request<{ completedInMs: number }>(
      { command: "pickupMessages", timeoutMs },
      timeoutMs + 5_000,
    );
    return completedInMs;
  }

  /**
   * Registers the app's device token with the mediator (push-notifications-fcm / -apns
   * `set-device-info`, Credo's @credo-ts/push-notifications); null turns notifications off.
   */
  setPushDevice(service: "fcm" | "apns", token: string | null, devicePlatform?: string): Promise<unknown> {
    return this.request({ command: "setPushDevice", service, token, devicePlatform });
  }

  /** From now on the wallet processes deliveries but sends no `messages-received` for them. */
  holdReceipts(): Promise<unknown> {
    return this.request({ command: "holdReceipts" });
  }

  /** Sends the held `messages-received`; resolves with how many. */
  async releaseReceipts(): Promise<number> {
    return (await this.request<{ released: number }>({ command: "releaseReceipts" })).released;
  }

  /**
   * The app is closed: the agent shuts down and its process exits (so no socket of it survives);
   * its wallet files stay.
   */
  async goOffline(): Promise<void> {
    await this.shutDownProcess();
  }

  /** The app is opened again: a new process on the same wallet, mediation and pickup as at the start. */
  goOnline(startTimeoutMs = 90_000): Promise<void> {
    return this.launch(startTimeoutMs);
  }

  /** The basic messages received with this content prefix, in arrival order. */
  receivedWith(prefix: string): ReceivedBasicMessage[] {
    return this.received.filter((m) => m.content.startsWith(prefix));
  }

  /** Waits until every content in `contents` was received at least once. */
  async waitForContents(contents: readonly string[], timeoutMs = 60_000): Promise<void> {
    const missing = () => {
      const got = new Set(this.received.map((m) => m.content));
      return contents.filter((c) => !got.has(c));
    };
    try {
      await waitFor(`${contents.length} messages in ${this.label}`, () => missing().length === 0, timeoutMs, 100);
    } catch (error) {
      throw new Error(`${(error as Error).message}; missing: ${missing().join(", ")}\n${this.stderrTail.slice(-3000)}`);
    }
  }

  /** How many contents were received more than once, and how many extra copies in all. */
  duplicatesOf(contents: readonly string[]): { messages: number; extraCopies: number } {
    let messages = 0;
    let extraCopies = 0;
    for (const content of contents) {
      const copies = this.received.filter((m) => m.content === content).length;
      if (copies > 1) {
        messages++;
        extraCopies += copies - 1;
      }
    }
    return { messages, extraCopies };
  }

  /** SIGSTOP: the app is frozen with its socket open, as a backgrounded phone app is. */
  freeze(): void {
    process.kill(this.child.pid as number, "SIGSTOP");
  }

  resume(): void {
    process.kill(this.child.pid as number, "SIGCONT");
  }

  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await exited(this.child);
    }
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Shuts the agent down, then the process; SIGKILL if it does not go within 10 s. */
  private async shutDownProcess(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      try {
        this.resume();
        await this.request({ command: "stop" }, 10_000);
        await Promise.race([exited(child), new Promise((r) => setTimeout(r, 10_000))]);
      } catch {
        // killed below
      }
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited(child);
    }
  }

  /** Stops the wallet for good and removes its files. */
  async stop(): Promise<void> {
    await this.shutDownProcess();
    rmSync(this.home, { recursive: true, force: true });
  }
}
