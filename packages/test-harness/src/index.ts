export { AcaPyAdmin, connectAgents } from "./acapy-admin.js";
export { type AcaPyOptions, AcaPyProcess, acapyBinary, venvPython } from "./acapy-process.js";
export { type ApnsSend, ApnsTestServer, type TestApnsKey } from "./apns-test-server.js";
export { aliceBehindBridgeArgs, BridgeDeployment, type DeploymentOptions } from "./bridge-deployment.js";
export { type BridgeLogLine, BridgeProcess, loopbackBridgeArgs } from "./bridge-process.js";
export { exited, killAllChildren, killChildrenOnExit, trackChild } from "./child-processes.js";
export {
  Design1Deployment,
  type Design1Instance,
  type Design1Options,
} from "./design1-deployment.js";
export { type FcmSend, FcmTestServer, GOOGLE_TOKEN_AUDIENCE, type TestServiceAccount } from "./fcm-test-server.js";
export { freeClusterPort, freePort } from "./free-port.js";
export { PostgresServer, postgresBinDir } from "./postgres-server.js";
export { callsPerUnit, commandCounts } from "./redis-command-counts.js";
export { RedisCluster, RedisServer, type RedisServerOptions } from "./redis-server.js";
export { fuzzSeed, seededRandom } from "./seeded-random.js";
export { TcpLoadBalancer } from "./tcp-load-balancer.js";
export { type IssuedCertificate, makeTestCertificates, type TestCertificates } from "./test-certificates.js";
export { uniquePrefix } from "./test-prefix.js";
export { holdStill, waitFor } from "./wait-for.js";
export { type ReceivedWebhook, WebhookSink } from "./webhook-sink.js";
