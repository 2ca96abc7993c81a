import { describe, expect, it } from "vitest";
import { parseEnv } from "@/env";

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
});
