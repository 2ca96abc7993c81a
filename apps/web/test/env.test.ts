import { describe, expect, it } from "vitest";
import { parseEnv } from "@/env";
import { AuthThrottle, authThrottleConfig } from "@/server/throttle";

const DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/chorus";

describe("web settings", () => {
  it("runs on a development machine with only DATABASE_URL", () => {
    const env = parseEnv({ DATABASE_URL, CHORUS_ENV: "local", NODE_ENV: "production" });
    expect(env.isProduction).toBe(false);
    expect(env.SYNC_URL).toBe("http://127.0.0.1:4000");
    expect(env.ADMIN_EMAILS).toEqual([]);
  });

  it("treats NODE_ENV=production as production unless CHORUS_ENV says local", () => {
    expect(() => parseEnv({ DATABASE_URL, NODE_ENV: "production" })).toThrow(
      /NEXTAUTH_SECRET.*SMTP_URL.*AUTH_PRIVATE_KEY/s,
    );
    const env = parseEnv({
      DATABASE_URL,
      NODE_ENV: "production",
      NEXTAUTH_SECRET: "x".repeat(32),
      AUTH_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----",
      SMTP_URL: "smtp://mail.example.com:587",
    });
    expect(env.isProduction).toBe(true);
  });

  it("refuses a short session secret and a malformed URL, naming the setting", () => {
    expect(() => parseEnv({ DATABASE_URL, NEXTAUTH_SECRET: "short" })).toThrow(/NEXTAUTH_SECRET/);
    expect(() => parseEnv({ DATABASE_URL, SYNC_URL: "nope" })).toThrow(/SYNC_URL/);
    expect(() => parseEnv({})).toThrow(/DATABASE_URL/);
  });

  it("reads ADMIN_EMAILS as a lower-cased list", () => {
    const env = parseEnv({ DATABASE_URL, ADMIN_EMAILS: " Ada@Example.com, ,bob@example.com" });
    expect(env.ADMIN_EMAILS).toEqual(["ada@example.com", "bob@example.com"]);
  });

  it("a whole test suite signing up from 127.0.0.1 is not refused when SIGN_UPS_PER_IP is raised", async () => {
    expect(parseEnv({ DATABASE_URL }).SIGN_UPS_PER_IP).toBe(30);
    expect(() => parseEnv({ DATABASE_URL, SIGN_UPS_PER_IP: "0" })).toThrow(/SIGN_UPS_PER_IP/);
    expect(() => parseEnv({ DATABASE_URL, SIGN_UPS_PER_IP: "many" })).toThrow(/SIGN_UPS_PER_IP/);

    const raised = parseEnv({ DATABASE_URL, SIGN_UPS_PER_IP: "200" }).SIGN_UPS_PER_IP;
    const throttle = new AuthThrottle(authThrottleConfig(raised));
    for (let n = 0; n < 200; n += 1) expect(await throttle.signUpAttempt("127.0.0.1")).toBeNull();
    expect((await throttle.signUpAttempt("127.0.0.1"))?.retryAfterSeconds).toBeGreaterThan(0);

    // The default still refuses the 31st account from one address.
    const strict = new AuthThrottle(authThrottleConfig(30));
    for (let n = 0; n < 30; n += 1) expect(await strict.signUpAttempt("10.0.0.9")).toBeNull();
    expect(await strict.signUpAttempt("10.0.0.9")).not.toBeNull();
  });
});
