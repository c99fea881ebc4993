import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { isSecretName, redactSecrets, redactSecretsInText } from "./secret-redaction.js";

function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    component: "test",
    instance: "test-1",
    level: "debug",
    destination: { write: (line: string) => lines.push(line) },
  });
  return { logger, lines };
}

describe("secret redaction", () => {
  it("masks the password of a URL and keeps the user, host and port", () => {
    expect(redactSecretsInText("redis://bridge:s3cr3t@10.0.0.5:6379/2")).toBe("redis://bridge:***@10.0.0.5:6379/2");
    expect(redactSecretsInText("rediss://:s3cr3t@h:1,rediss://:other@h:2")).toBe("rediss://:***@h:1,rediss://:***@h:2");
  });

  it("masks a bare userinfo, which is a token", () => {
    expect(redactSecretsInText("https://ghp_abc123@example.org/x")).toBe("https://***@example.org/x");
  });

  it("masks token-like query parameters, also in URLs that do not parse", () => {
    expect(redactSecretsInText("not a URL: http://a b/?api_key=k1&x=1&access_token=t2#f")).toBe(
      "not a URL: http://a b/?api_key=***&x=1&access_token=***#f",
    );
    expect(redactSecretsInText("https://h/p?apiKey=k&PASSWORD=p;secret=s")).toBe(
      "https://h/p?apiKey=***&PASSWORD=***;secret=***",
    );
  });

  it("leaves text without secrets as it is", () => {
    const text = "delivery to https://agent.example/didcomm?page=2 failed: 503";
    expect(redactSecretsInText(text)).toBe(text);
  });

  it("recognises secret names whatever their case and separators", () => {
    for (const name of ["x-api-key", "Authorization", "redis-password", "controlToken", "client_secret", "Cookie"]) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ["x-wallet-id", "content-type", "endpoint", "mid"]) expect(isSecretName(name), name).toBe(false);
  });

  it("masks values under secret names at any depth, and strings everywhere", () => {
    const job = { headers: { "x-api-key": "k", "x-wallet-id": "w" }, endpoint: "http://u:p@h/", attempts: 3 };
    expect(redactSecrets({ job, list: ["ws://u:p@h"] })).toEqual({
      job: { headers: { "x-api-key": "***", "x-wallet-id": "w" }, endpoint: "http://u:***@h/", attempts: 3 },
      list: ["ws://u:***@h"],
    });
  });

  it("masks a URL object as the string it is written as", () => {
    expect(redactSecrets({ endpoint: new URL("https://u:pw@h/p?api_key=k") })).toEqual({
      endpoint: "https://u:***@h/p?api_key=***",
    });
  });

  it("keeps every secret out of every log line: fields, message, error and child bindings", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ event: "process.starting", options: { "redis-url": "redis://bridge:pw1@127.0.0.1:6379" } }, "start");
    logger.warn({ detail: "not a URL: http://x y/?api_key=key2" }, "endpoint http://u:pw3@h/ refused");
    logger.error({ err: new Error("connect to redis://:pw4@h failed") }, "failed");
    logger.child({ endpoint: "https://h/?token=tok5" }).info({ headers: { authorization: "Bearer tok6" } }, "child");
    logger.info({ apiKey: "key7", password: "pw8" }, "flat");
    const all = lines.join("");
    for (const secret of ["pw1", "key2", "pw3", "pw4", "tok5", "tok6", "key7", "pw8"])
      expect(all).not.toContain(secret);
    expect(all).toContain("redis://bridge:***@127.0.0.1:6379");
    expect(lines).toHaveLength(5);
  });
});
