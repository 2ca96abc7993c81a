import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allPending } from "../queue.js";
import { EngineFleet } from "../testing/engines.js";

let fleet: EngineFleet;
beforeEach(() => {
  fleet = new EngineFleet();
});
afterEach(async () => {
  await fleet.close();
});

describe("queue retention", () => {
  it("is ok while little waits, a backlog past maxPending, offline too long past the stale window", async () => {
    const engine = fleet.open("a");
    expect(engine.queueHealth()).toEqual({
      status: "ok",
      pendingCount: 0,
      oldestPendingAgeMs: null,
      message: null,
    });
    await engine.createPlaylist("one");
    await engine.createPlaylist("two");
    expect(engine.queueHealth().status).toBe("ok");
    expect(engine.queueHealth({ maxPending: 1, maxOfflineMs: 60_000 })).toMatchObject({
      status: "backlog",
      pendingCount: 2,
      message: expect.stringContaining("2 changes wait to upload"),
    });
    // The oldest change waited 91 days (the default stale window is 90).
    engine.profile.db
      .prepare("UPDATE sync_pending_op SET created_at = ? WHERE id = ?")
      .run(Date.now() - 91 * 86_400_000, allPending(engine.profile.db)[0]?.id);
    expect(engine.queueHealth()).toMatchObject({
      status: "offline_too_long",
      message: expect.stringContaining("waited 91 days"),
    });
    // Nothing was dropped to get there.
    expect(allPending(engine.profile.db)).toHaveLength(2);
  });
});
