import { randomUUID } from "node:crypto";
import { parseSyncError } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "./harness.js";
import { httpClient as http, useProcessBed } from "./processes.js";

/*
 * Two sync-server replicas, each a real process, sharing one Postgres and one Redis.
 * Needs Redis: TEST_REDIS_URL, default redis://127.0.0.1:6379.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const suite = useProcessBed();

describe("rate limits across replicas", () => {
  it("a device's rate limit does not double with two replicas (the budget lives in Redis)", async () => {
    // A window long enough that no budget refills while the test runs, however slow the host.
    const env = {
      REDIS_URL,
      REDIS_PREFIX: `chorus-test-${randomUUID()}`,
      RATE_LIMITS: "pull=6/600",
      COMPACTION_TIME: "off",
    };
    const one = await suite.bed.server(env);
    const two = await suite.bed.server(env);
    const device = await suite.bed.device(await suite.bed.user());

    for (let i = 0; i < 3; i++) {
      await http(one, device.token).sync.pull.query({ since: 0 });
      await http(two, device.token).sync.pull.query({ since: 0 });
    }
    // Six pulls spent the device's budget, three on each replica: the seventh is refused on both.
    for (const server of [one, two]) {
      const error = await failure(http(server, device.token).sync.pull.query({ since: 0 }));
      expect(parseSyncError(error)?.type).toBe("rate_limited");
    }
    // Another device has its own budget.
    const other = await suite.bed.device(await suite.bed.user());
    await http(two, other.token).sync.pull.query({ since: 0 });
  }, 120_000);
});
