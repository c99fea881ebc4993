import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { RedisCluster, RedisServer } from "./redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A standalone redis-server shared by the run; give each test file its own key prefix. */
    redisUrl: string;
    /** Seed URLs of a 3-master Redis Cluster shared by the run. */
    redisClusterUrl: string;
  }
}

/** Starts one standalone Redis and one 3-master Cluster for the whole test run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const standalone = await RedisServer.start();
  const cluster = await RedisCluster.start(3);
  project.provide("redisUrl", standalone.url);
  project.provide("redisClusterUrl", cluster.url);
  console.log(
    `[test-harness] redis-server ${standalone.url}, cluster ${cluster.url} ready in ${Date.now() - started} ms`,
  );
  return async () => {
    await cluster.stop();
    await standalone.stop();
  };
}
