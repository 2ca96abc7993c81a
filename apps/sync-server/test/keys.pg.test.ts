import { randomUUID } from "node:crypto";
import { changePassword, createAccountKey, openOp, sealOp, unwrapAccountKey } from "@chorus/crypto";
import { USER_LOCK_STATEMENT } from "@chorus/db";
import { MAX_VALUE_BYTES, type OpInput, parseSyncError } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, GENEROUS_LIMITS, Harness } from "./harness.js";

const cost = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS });
});
afterAll(async () => {
  await h.close();
});

describe("the account key on the sync server", () => {
  it("is set once: the first device wins, a second set is refused with key_exists", async () => {
    const first = await h.createDevice();
    const second = await h.createDevice(first.userId);
    expect(await first.http.keys.get.query()).toEqual({ key: null });

    const a = await createAccountKey(first.userId, "first device password", { cost });
    const b = await createAccountKey(first.userId, "second device password", { cost });
    const [one, two] = await Promise.allSettled([
      first.http.keys.set.mutate({ wrapped: a.wrapped }),
      second.http.keys.set.mutate({ wrapped: b.wrapped }),
    ]);
    const won = [one, two].filter((r) => r.status === "fulfilled");
    const lost = [one, two].filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(parseSyncError((lost[0] as PromiseRejectedResult).reason)).toEqual({
      type: "key_exists",
      epoch: 1,
      version: 1,
    });

    // The loser reads the stored key; it is the winner's, byte for byte.
    const { key } = await second.http.keys.get.query();
    const winner = one.status === "fulfilled" ? a : b;
    expect(key?.wrapped).toEqual(winner.wrapped);
    expect(key).toMatchObject({ epoch: 1, version: 1 });
  });

  it("a key of another account is not visible", async () => {
    const owner = await h.createDevice();
    const { wrapped } = await createAccountKey(owner.userId, "owner password", { cost });
    await owner.http.keys.set.mutate({ wrapped });
    const stranger = await h.createDevice();
    expect(await stranger.http.keys.get.query()).toEqual({ key: null });
  });

  it("rewraps on a password change with optimistic concurrency on the version", async () => {
    const device = await h.createDevice();
    const other = await h.createDevice(device.userId);
    const created = await createAccountKey(device.userId, "old password", { cost });
    await device.http.keys.set.mutate({ wrapped: created.wrapped });

    const changed = await changePassword(
      created.wrapped,
      "old password",
      "new password",
      device.userId,
      cost,
    );
    const after = await device.http.keys.rewrap.mutate({
      expectedVersion: 1,
      wrapped: changed.wrapped,
    });
    expect(after.key).toMatchObject({ epoch: 1, version: 2 });

    // A second device changing from the version it read earlier is told the key moved on.
    const stale = await changePassword(
      created.wrapped,
      "old password",
      "other new",
      device.userId,
      cost,
    );
    const error = await failure(
      other.http.keys.rewrap.mutate({ expectedVersion: 1, wrapped: stale.wrapped }),
    );
    expect(error.data).toMatchObject({ code: "CONFLICT" });
    expect(parseSyncError(error)).toEqual({ type: "key_version_conflict", epoch: 1, version: 2 });

    // The stored key opens with the new password only, and is still the same master key.
    const { key } = await other.http.keys.get.query();
    const opened = await unwrapAccountKey(key?.wrapped, "new password", device.userId);
    expect(opened.sameKeyAs(created.key)).toBe(true);
  });

  it("reset starts a new key epoch that devices compare; rewrap and reset of a missing key are refused", async () => {
    const device = await h.createDevice();
    const fresh = await createAccountKey(device.userId, "pw", { cost });
    expect(
      parseSyncError(
        await failure(
          device.http.keys.rewrap.mutate({ expectedVersion: 1, wrapped: fresh.wrapped }),
        ),
      ),
    ).toEqual({
      type: "key_missing",
    });
    await device.http.keys.set.mutate({ wrapped: fresh.wrapped });

    // A reset must carry the next epoch.
    const sameEpoch = await createAccountKey(device.userId, "pw2", { cost });
    const refused = await failure(
      device.http.keys.reset.mutate({ expectedVersion: 1, wrapped: sameEpoch.wrapped }),
    );
    expect(parseSyncError(refused)?.type).toBe("invalid_input");

    const next = await createAccountKey(device.userId, "forgot the old one", { cost, epoch: 2 });
    const after = await device.http.keys.reset.mutate({
      expectedVersion: 1,
      wrapped: next.wrapped,
    });
    expect(after.key).toMatchObject({ epoch: 2, version: 2 });
    // A set on an account that has a key, whatever its epoch, is still refused.
    expect(
      parseSyncError(await failure(device.http.keys.set.mutate({ wrapped: fresh.wrapped }))),
    ).toEqual({
      type: "key_exists",
      epoch: 2,
      version: 2,
    });
  });

  it("refuses a malformed wrapped key and web tokens", async () => {
    const device = await h.createDevice();
    const bad = await failure(device.http.keys.set.mutate({ wrapped: { v: 1 } as never }));
    expect(parseSyncError(bad)?.type).toBe("invalid_input");
    expect(await h.prisma.accountKey.count({ where: { userId: device.userId } })).toBe(0);
    const web = await h.webClient(device.userId, "user");
    const error = await failure(web.keys.get.query());
    expect(error.data).toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("sealed ops through push and pull", () => {
  it("stores sealed values unchanged, up to the per-value limit, and they open on another device", async () => {
    const laptop = await h.createDevice();
    const desktop = await h.createDevice(laptop.userId);
    const { key, wrapped } = await createAccountKey(laptop.userId, "pw", { cost });
    await laptop.http.keys.set.mutate({ wrapped });

    const entityId = randomUUID();
    const plain: OpInput[] = [
      {
        operationId: randomUUID(),
        lamportTs: 1,
        entity: "playlist",
        entityId,
        field: null,
        op: "insert",
        value: { title: "Mix", rating: 4 },
      },
      {
        operationId: randomUUID(),
        lamportTs: 2,
        entity: "playlist",
        entityId,
        field: "title",
        op: "set",
        value: "Road trip",
      },
      // As large as a sealed value may be: its envelope lands just under MAX_VALUE_BYTES.
      {
        operationId: randomUUID(),
        lamportTs: 3,
        entity: "playlist",
        entityId,
        field: "notes",
        op: "set",
        value: "n".repeat(Math.floor(MAX_VALUE_BYTES * 0.75) - 120),
      },
      {
        operationId: randomUUID(),
        lamportTs: 4,
        entity: "playlist",
        entityId: randomUUID(),
        field: null,
        op: "delete",
        value: null,
      },
    ];
    const sealed = plain.map((op) => sealOp(key, laptop.userId, op));
    await laptop.http.sync.push.mutate({ ops: sealed });

    const stored = await h.prisma.syncOp.findMany({
      where: { userId: laptop.userId },
      orderBy: { id: "asc" },
    });
    expect(stored.map((row) => row.value ?? null)).toEqual(sealed.map((op) => op.value));
    expect(JSON.stringify(stored.map((row) => row.value))).not.toContain("Road trip");

    const { ops } = await desktop.http.sync.pull.query({ since: 0, limit: 100 });
    const theirKey = await unwrapAccountKey(
      (await desktop.http.keys.get.query()).key?.wrapped,
      "pw",
      desktop.userId,
    );
    expect(ops.map((op) => openOp(theirKey, desktop.userId, op).value)).toEqual(
      plain.map((op) => op.value),
    );
  });

  it("the admin console shows sealed values as sealed with their size, never their ciphertext", async () => {
    const device = await h.createDevice();
    const entityId = randomUUID();
    // A value pushed in clear before the account had a key (its history), then sealed ones.
    const plainRating: OpInput = {
      operationId: randomUUID(),
      lamportTs: 1,
      entity: "playlist",
      entityId,
      field: "rating",
      op: "set",
      value: 5,
    };
    await device.http.sync.push.mutate({ ops: [plainRating] });
    const { key, wrapped } = await createAccountKey(device.userId, "pw", { cost });
    await device.http.keys.set.mutate({ wrapped });
    const sealedSet = sealOp(key, device.userId, {
      operationId: randomUUID(),
      lamportTs: 3,
      entity: "playlist",
      entityId,
      field: "title",
      op: "set",
      value: "Secret title",
    });
    const sealedInsert = sealOp(key, device.userId, {
      operationId: randomUUID(),
      lamportTs: 2,
      entity: "playlist",
      entityId: randomUUID(),
      field: null,
      op: "insert",
      value: { title: "A", notes: "B" },
    });
    await device.http.sync.push.mutate({ ops: [sealedInsert, sealedSet] });
    const admin = await h.webClient(await h.createUser(), "admin");
    const ops = await admin.admin.recentOps.query({ userId: device.userId });
    expect(ops.map((op) => op.value.kind)).toEqual(["sealed", "sealed_fields", "plain"]);
    expect(ops[0]).toMatchObject({
      field: "title",
      preview: null,
      value: {
        kind: "sealed",
        version: 1,
        epoch: 1,
        bytes: JSON.stringify(sealedSet.value).length,
      },
    });
    expect(ops[1]).toMatchObject({
      preview: null,
      value: { kind: "sealed_fields", fields: 2, sealed: 2 },
    });
    expect(ops[2]).toMatchObject({ preview: "5", value: { kind: "plain", bytes: 1 } });
    expect(JSON.stringify(ops)).not.toContain((sealedSet.value as unknown as { c: string }).c);
    // Admins only.
    const error = await failure(device.http.admin.recentOps.query({ userId: device.userId }));
    expect(error.data).toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("pushes checked against the account's current key epoch", () => {
  /** A set of the playlist's name, stamped `lamportTs`. */
  const rename = (entityId: string, lamportTs: number, name: string): OpInput => ({
    operationId: randomUUID(),
    lamportTs,
    entity: "playlist",
    entityId,
    field: "name",
    op: "set",
    value: name,
  });

  /** What the server holds of the account's ops and of the device's Lamport mark. */
  async function stored(userId: string, deviceId: string) {
    const ops = await h.opCount(userId);
    const mark = await h.prisma.deviceLamport.findUnique({ where: { deviceId } });
    return { ops, mark: mark?.maxTs ?? null };
  }

  it("refuses a batch sealed under the epoch before a reset with key_epoch_stale, over HTTP and the socket, and stores nothing of it", async () => {
    const b = await h.createDevice();
    const a = await h.createDevice(b.userId);
    const first = await createAccountKey(b.userId, "pw", { cost });
    await a.http.keys.set.mutate({ wrapped: first.wrapped });
    const entityId = randomUUID();
    await b.http.sync.push.mutate({
      ops: [sealOp(first.key, b.userId, rename(entityId, 1, "v1"))],
    });

    // Device a resets the key: epoch 2. Device b still holds epoch 1.
    const second = await createAccountKey(b.userId, "new pw", { cost, epoch: 2 });
    await a.http.keys.reset.mutate({ expectedVersion: 1, wrapped: second.wrapped });
    const before = await stored(b.userId, b.deviceId);

    // A batch whose first op is sealed under the new epoch and whose second is under the old
    // one: refused whole, nothing of it stored, the device's Lamport mark unchanged.
    const mixed = [
      sealOp(second.key, b.userId, rename(entityId, 2, "under epoch 2")),
      sealOp(first.key, b.userId, rename(entityId, 3, "under epoch 1")),
    ];
    const overHttp = await failure(b.http.sync.push.mutate({ ops: mixed }));
    expect(parseSyncError(overHttp)).toEqual({ type: "key_epoch_stale", epoch: 2 });
    expect(overHttp.data).toMatchObject({ code: "CONFLICT" });
    expect(await stored(b.userId, b.deviceId)).toEqual(before);

    const socket = b.ws();
    const old = [sealOp(first.key, b.userId, rename(entityId, 4, "under epoch 1, by socket"))];
    const overSocket = await failure(socket.client.sync.push.mutate({ ops: old }));
    expect(parseSyncError(overSocket)).toEqual({ type: "key_epoch_stale", epoch: 2 });
    expect(await stored(b.userId, b.deviceId)).toEqual(before);

    // Plaintext in an account that has a key is refused the same way.
    const plain = await failure(b.http.sync.push.mutate({ ops: [rename(entityId, 5, "clear")] }));
    expect(parseSyncError(plain)).toEqual({ type: "key_epoch_stale", epoch: 2 });
    // A delete carries no value: it needs no key and is stored.
    const gone: OpInput = { ...rename(randomUUID(), 6, "x"), op: "delete", field: null };
    await b.http.sync.push.mutate({ ops: [{ ...gone, value: null }] });
    expect((await stored(b.userId, b.deviceId)).ops).toBe(before.ops + 1);

    // The same edits sealed under the current epoch are stored, over either path.
    const current = [sealOp(second.key, b.userId, rename(entityId, 7, "under epoch 2"))];
    await socket.client.sync.push.mutate({ ops: current });
    expect((await stored(b.userId, b.deviceId)).ops).toBe(before.ops + 2);
    const rows = await h.prisma.syncOp.findMany({
      where: { userId: b.userId },
      orderBy: { id: "asc" },
    });
    expect(rows.map((row) => (row.value as { e?: number } | null)?.e ?? null)).toEqual([
      1,
      null,
      2,
    ]);
    await socket.close();
  });

  it("refuses a sealed value in an account without a key with key_missing, and stores nothing", async () => {
    const device = await h.createDevice();
    const { key } = await createAccountKey(device.userId, "pw", { cost });
    const sealed = sealOp(key, device.userId, rename(randomUUID(), 1, "sealed, no key stored"));
    const error = await failure(device.http.sync.push.mutate({ ops: [sealed] }));
    expect(parseSyncError(error)).toEqual({ type: "key_missing" });
    expect(await stored(device.userId, device.deviceId)).toEqual({ ops: 0, mark: null });
    // Plaintext in an account without a key is what such an account pushes.
    await device.http.sync.push.mutate({ ops: [rename(randomUUID(), 2, "in clear")] });
    expect(await h.opCount(device.userId)).toBe(1);
  });

  it("a reset waits for a push that holds the user's lock, and a push after it is checked against the new epoch", async () => {
    const device = await h.createDevice();
    const first = await createAccountKey(device.userId, "pw", { cost });
    await device.http.keys.set.mutate({ wrapped: first.wrapped });
    const second = await createAccountKey(device.userId, "new pw", { cost, epoch: 2 });

    // Hold the user's lock as a push in flight does; the reset must wait for it.
    const holder = new pg.Client({ connectionString: h.db.url });
    await holder.connect();
    // Watched from a session of its own: inside the holder's transaction, Postgres would keep
    // its first snapshot of pg_stat_activity until COMMIT and never see the reset start waiting.
    const observer = new pg.Client({ connectionString: h.db.url });
    await observer.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(USER_LOCK_STATEMENT, [device.userId]);
      let settled = false;
      const reset = device.http.keys.reset
        .mutate({ expectedVersion: 1, wrapped: second.wrapped })
        .finally(() => {
          settled = true;
        });
      await waitUntil("the reset waits for the user's lock", async () => {
        const waiting = await observer.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND datname = current_database()
              AND query LIKE '%pg_advisory_xact_lock%'`,
        );
        return waiting.rows[0].n === 1;
      });
      expect(settled).toBe(false);
      expect(
        (await h.prisma.accountKey.findUnique({ where: { userId: device.userId } }))?.epoch,
      ).toBe(1);
      await holder.query("COMMIT");
      expect((await reset).key).toMatchObject({ epoch: 2 });
    } finally {
      await Promise.all([holder.end(), observer.end()]);
    }
    const old = sealOp(first.key, device.userId, rename(randomUUID(), 1, "old key"));
    const error = await failure(device.http.sync.push.mutate({ ops: [old] }));
    expect(parseSyncError(error)).toEqual({ type: "key_epoch_stale", epoch: 2 });
  });
});
