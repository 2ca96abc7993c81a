import { DEFAULT_RATE_LIMITS } from "@chorus/api";
import { describe, expect, it } from "vitest";
import { loadEnv, SettingsError } from "../src/env.js";

const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/chorus" };

describe("limit settings", () => {
  it("RATE_LIMITS overrides the named actions and keeps the others", () => {
    const env = loadEnv({ ...base, RATE_LIMITS: "push=5/2, pull=7/60" });
    expect(env.RATE_LIMITS).toEqual({
      ...DEFAULT_RATE_LIMITS,
      push: { points: 5, durationSeconds: 2 },
      pull: { points: 7, durationSeconds: 60 },
    });
    expect(loadEnv(base).RATE_LIMITS).toEqual(DEFAULT_RATE_LIMITS);
  });

  it("refuses a malformed RATE_LIMITS or bound with one clear message", () => {
    for (const RATE_LIMITS of ["push=5", "fetch=1/1", "push=0/1", "push=1/1,pull"]) {
      expect(() => loadEnv({ ...base, RATE_LIMITS })).toThrow(SettingsError);
      expect(() => loadEnv({ ...base, RATE_LIMITS })).toThrow(/RATE_LIMITS/);
    }
    expect(() => loadEnv({ ...base, PULL_PAGE_MAX_BYTES: "1000" })).toThrow(/PULL_PAGE_MAX_BYTES/);
    expect(() => loadEnv({ ...base, PUSHES_PER_USER: "0" })).toThrow(/PUSHES_PER_USER/);
  });

  it("every bound has a default", () => {
    const env = loadEnv(base);
    expect(env).toMatchObject({
      PULL_PAGE_MAX_BYTES: 4 * 1024 * 1024,
      PUSHES_PER_USER: 4,
      PUSH_QUEUE_PER_USER: 64,
      SUBSCRIPTIONS_PER_SOCKET: 8,
      SOCKETS_PER_DEVICE: 5,
      WS_AUTH_TIMEOUT_MS: 5_000,
      HEADERS_TIMEOUT_MS: 10_000,
    });
  });
});
