// Mediator Design 1 on one machine: Redis, PostgreSQL, three ACA-Py mediator instances with their
// own HTTP and WebSocket transports and the acapy-bridge shim (own_transports), two TCP load
// balancers in front (HTTP and WebSocket), no relay, no controller. Simulated mobile wallets join
// through the balancer (round robin over the instances), a plain ACA-Py agent (Bob) writes to each
// of them through the mediator, then the instance holding some wallets' sockets is killed (-9)
// and Bob writes again: the wallets reconnect to the other instances and get everything.
// `bash examples/mediator-design-1/run.sh`; `-- --wallets 30` for more, `-- --keep-running` to stay up.
import { randomUUID } from "node:crypto";
import {
  AcaPyAdmin,
  AcaPyProcess,
  Design1Deployment,
  freePort,
  killAllChildren,
  PostgresServer,
  RedisServer,
  waitFor,
} from "@acapy-bridge/test-harness";
import { MobileWallet, type OobInvitation } from "@acapy-bridge/wallet-simulator";
import { Redis } from "ioredis";

const args = process.argv.slice(2);
const walletCount = Number(args[args.indexOf("--wallets") + 1]) || 12;
const keepRunning = args.includes("--keep-running");
const BASIC = "https://didcomm.org/basicmessage/1.0/message";

const started = Date.now();
let step = 0;
const TOTAL_STEPS = 7;
function say(text: string): void {
  step++;
  console.log(`[${step}/${TOTAL_STEPS}] ${text}  (+${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function bobAgent(): Promise<AcaPyProcess> {
  const port = await freePort();
  return AcaPyProcess.start({
    label: "bob",
    args: ["-it", "http", "127.0.0.1", String(port), "-ot", "http", "-e", `http://127.0.0.1:${port}`],
  });
}

async function connectBob(bobAdmin: AcaPyAdmin, wallet: MobileWallet): Promise<string> {
  const invitation = (await bobAdmin.createInvitation("bob")) as OobInvitation;
  await wallet.acceptInvitation(invitation, 60_000);
  return bobAdmin.connectionFromInvitation(String(invitation["@id"]));
}

async function main(): Promise<void> {
  const redisServer = await RedisServer.start();
  const postgres = await PostgresServer.start();
  say(`Redis on ${redisServer.url}, PostgreSQL for the shared Askar wallet`);

  const deployment = await Design1Deployment.start(
    { shim: true, redisUrl: redisServer.url, prefix: `design1-${randomUUID().slice(0, 6)}`, postgres },
    3,
  );
  const redis = new Redis(redisServer.url);
  const holders = await deployment.socketHoldersUp(redis);
  say(
    `3 ACA-Py mediator instances (own -it http/ws, shim own_transports) behind ${deployment.endpoint} and ${deployment.wsUrl}; socket holders: ${holders.join(", ")}`,
  );

  const bob = await bobAgent();
  const bobAdmin = new AcaPyAdmin(bob.adminUrl);
  const wallets: { wallet: MobileWallet; connection: string }[] = [];
  for (let i = 0; i < walletCount; i++) {
    const wallet = await MobileWallet.create(`wallet-${i}`);
    const admin = deployment.instances[i % deployment.instances.length]?.admin as AcaPyAdmin;
    await wallet.joinMediator((await admin.createInvitation("mediator")) as OobInvitation, deployment.wsUrl, 60_000);
    wallet.keepConnected();
    wallets.push({ wallet, connection: await connectBob(bobAdmin, wallet) });
  }
  say(`${walletCount} simulated wallets joined through the balancer (round robin) and connected to Bob`);

  const sendRound = async (round: string) => {
    for (const { wallet, connection } of wallets) await bobAdmin.sendMessage(connection, `${round} ${wallet.label}`);
    const t0 = Date.now();
    await waitFor(
      `every wallet has Bob's "${round}"`,
      () =>
        wallets.every(({ wallet }) =>
          wallet.inbox.some((r) => r.message["@type"] === BASIC && r.message.content === `${round} ${wallet.label}`),
        ),
      120_000,
      50,
    );
    return Date.now() - t0;
  };
  say(
    `Bob wrote to every wallet; all ${walletCount} messages arrived (${await sendRound("hello")} ms after the last send)`,
  );

  const doomed = deployment.instances[0] as (typeof deployment.instances)[number];
  deployment.balanceOver(deployment.instances.slice(1));
  await doomed.process.kill();
  say(`kill -9 of ${doomed.label}: its wallets reconnect through the balancer to the other two instances`);

  say(`Bob wrote again; all ${walletCount} messages arrived (${await sendRound("again")} ms after the last send)`);
  const reconnects = wallets.reduce((n, { wallet }) => n + wallet.reconnects, 0);
  say(
    `${reconnects} wallets reconnected; none lost a message; duplicates discarded: ${wallets.reduce((n, w) => n + w.wallet.duplicates, 0)}`,
  );

  if (keepRunning) {
    console.log(
      `\nstill running (Ctrl-C to stop): Bob admin ${bob.adminUrl}, mediators ${deployment.instances
        .slice(1)
        .map((i) => i.process.adminUrl)
        .join(", ")}`,
    );
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await Promise.all(wallets.map(({ wallet }) => wallet.closeSocket()));
  await bob.stop();
  await deployment.stop();
  redis.disconnect();
  await postgres.stop();
  await redisServer.stop();
}

main().catch((error: Error) => {
  console.error(`\ndemo failed: ${error.message}`);
  killAllChildren();
  process.exit(1);
});
