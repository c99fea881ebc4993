import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OptionsError, parseOptions } from "@acapy-bridge/operability";
import { describe, expect, it } from "vitest";
import { APNS_PRODUCTION_URL, pushConfigFromOptions, pushOptionSpecs } from "./push-options.js";

const dir = mkdtempSync(join(tmpdir(), "push-options-"));
const PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n";

function configOf(argv: string[], env: Record<string, string> = {}) {
  return pushConfigFromOptions(parseOptions(pushOptionSpecs, argv, env));
}

describe("push notification options", () => {
  it("send nothing directly without credentials, and take the project and token URI from the service account", () => {
    expect(configOf([])).toMatchObject({ platforms: ["fcm", "apns"], fcm: undefined, apns: undefined });
    const file = join(dir, "sa.json");
    writeFileSync(file, JSON.stringify({ client_email: "n@p.iam", private_key: PRIVATE_KEY, project_id: "p1" }));
    const config = configOf(["--push-fcm-service-account-file", file]);
    expect(config.fcm).toMatchObject({ projectId: "p1", baseUrl: "https://fcm.googleapis.com" });
  });

  it("take the service account and the APNs key from the environment too", () => {
    const config = configOf([], {
      ACAPY_BRIDGE_PUSH_FCM_SERVICE_ACCOUNT_JSON: JSON.stringify({ client_email: "e", private_key: PRIVATE_KEY }),
      ACAPY_BRIDGE_PUSH_FCM_PROJECT_ID: "p2",
      ACAPY_BRIDGE_PUSH_APNS_KEY: PRIVATE_KEY,
      ACAPY_BRIDGE_PUSH_APNS_KEY_ID: "K",
      ACAPY_BRIDGE_PUSH_APNS_TEAM_ID: "T",
      ACAPY_BRIDGE_PUSH_APNS_TOPIC: "org.example.app",
    });
    expect(config.fcm?.projectId).toBe("p2");
    expect(config.apns).toMatchObject({
      keyId: "K",
      teamId: "T",
      topic: "org.example.app",
      baseUrl: APNS_PRODUCTION_URL,
    });
    expect(pushOptionSpecs.filter((s) => s.secret).map((s) => s.name)).toEqual([
      "push-fcm-service-account-json",
      "push-apns-key",
    ]);
  });

  it("refuse a bad credential naming the option, never its content", () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, `{"private_key": "${PRIVATE_KEY.replace(/\n/g, "\\n")}"`);
    const attempts: [string[], RegExp][] = [
      [["--push-fcm-service-account-file", join(dir, "missing.json")], /--push-fcm-service-account-file .*ENOENT/],
      [["--push-fcm-service-account-file", broken], /not a readable JSON service account/],
      [["--push-apns-key", PRIVATE_KEY], /needs --push-apns-key-id, --push-apns-team-id and --push-apns-topic/],
    ];
    for (const [argv, message] of attempts) {
      let thrown: unknown;
      try {
        configOf(argv);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OptionsError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain("not-a-real-key");
    }
    expect(() => configOf(["--push-platforms", "fcm,sms"])).toThrow(/unknown platform\(s\) sms/);
    expect(() => configOf(["--push-apns-url", "http://api.push.apple.com"])).toThrow(/APNs needs https/);
  });
});
