import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createServices } from "../src/index.js";
import { ApiTestbed, setOp } from "./support.js";

let bed: ApiTestbed;
beforeAll(async () => {
  bed = await ApiTestbed.start();
});
afterAll(async () => {
  await bed.close();
});

it("a push whose bookkeeping throws gives its user's push slot back", async () => {
  const userId = await bed.user();
  const deviceId = await bed.device(userId);
  // One push of the user at a time and none waiting: a slot that is never given back would
  // refuse every later push of this user with rate_limited.
  const services = createServices({
    prisma: bed.prisma,
    bounds: { pushesPerUser: 1, pushQueuePerUser: 0 },
  });
  const touch = services.lastSeen.touch.bind(services.lastSeen);
  let failTouch = true;
  services.lastSeen.touch = (id, options) => {
    if (failTouch) throw new Error("last-seen bookkeeping broke");
    touch(id, options);
  };
  const caller = bed.callerFor(userId, deviceId, services);
  const entityId = randomUUID();

  await expect(caller.sync.push({ ops: [setOp(entityId, "title", "lost")] })).rejects.toThrow(
    /last-seen bookkeeping broke/,
  );

  failTouch = false;
  const answer = await caller.sync.push({
    ops: [setOp(entityId, "title", "kept")],
  });
  expect(answer.results).toHaveLength(1);
  expect((await bed.allOps(userId)).map((op) => op.value)).toEqual(["kept"]);
  await services.lastSeen.settle();
}, 60_000);
