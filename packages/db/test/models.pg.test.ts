import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

// Every model of schema.prisma exercised through the client against the SQL migrations: if the
// schema and the hand-written SQL drift apart, one of these queries fails.
let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { max: 2 });
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

async function userWithDevice() {
  const user = await prisma.user.create({
    data: { email: `${randomUUID()}@example.test`, passwordHash: "argon2id$placeholder" },
  });
  const device = await prisma.device.create({
    data: { userId: user.id, name: "Studio Mac", platform: "darwin", appVersion: "0.1.0" },
  });
  return { user, device };
}

describe("schema and migrations agree", () => {
  it("users have a unique email and a role defaulting to user", async () => {
    const { user } = await userWithDevice();
    expect(user.role).toBe("user");
    await expect(
      prisma.user.create({ data: { email: user.email, passwordHash: "x" } }),
    ).rejects.toMatchObject({ code: "P2002" });
    const admin = await prisma.user.update({ where: { id: user.id }, data: { role: "admin" } });
    expect(admin.role).toBe("admin");
  });

  it("devices, desktop codes and refresh tokens round-trip", async () => {
    const { user, device } = await userWithDevice();
    const code = await prisma.desktopAuthCode.create({
      data: {
        codeHash: randomUUID(),
        userId: user.id,
        deviceName: "Laptop",
        platform: "linux",
        appVersion: "0.1.0",
        redirectUri: "http://127.0.0.1:53123/callback",
        codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    expect(code.usedAt).toBeNull();
    const family = randomUUID();
    await prisma.refreshToken.create({
      data: {
        tokenHash: randomUUID(),
        familyId: family,
        userId: user.id,
        deviceId: device.id,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    const found = await prisma.device.findUniqueOrThrow({
      where: { id: device.id },
      include: { refreshTokens: true },
    });
    expect(found.refreshTokens.map((t) => t.familyId)).toEqual([family]);
  });

  it("sync ops are unique per (user, device, operation_id) and per (user, device, lamport_ts)", async () => {
    const { user, device } = await userWithDevice();
    const base = {
      userId: user.id,
      deviceId: device.id,
      entity: "playlist",
      entityId: randomUUID(),
      field: "name",
      op: "set" as const,
      value: { text: "Road trip" },
    };
    const operationId = randomUUID();
    const first = await prisma.syncOp.create({
      data: { ...base, operationId, lamportTs: 1n },
    });
    expect(typeof first.id).toBe("bigint");
    await expect(
      prisma.syncOp.create({ data: { ...base, operationId, lamportTs: 2n } }),
    ).rejects.toMatchObject({ code: "P2002" });
    await expect(
      prisma.syncOp.create({ data: { ...base, operationId: randomUUID(), lamportTs: 1n } }),
    ).rejects.toMatchObject({ code: "P2002" });
    const tombstone = await prisma.syncOp.create({
      data: {
        ...base,
        operationId: randomUUID(),
        lamportTs: 2n,
        field: null,
        op: "delete",
        value: undefined,
      },
    });
    expect(tombstone.id).toBeGreaterThan(first.id);
    expect(tombstone.field).toBeNull();
  });

  it("cursors, lamport high-water marks, watermarks and compaction runs round-trip", async () => {
    const { user, device } = await userWithDevice();
    await prisma.deviceSyncCursor.create({
      data: { userId: user.id, deviceId: device.id, lastSeenId: 42n, lastSeenAt: new Date() },
    });
    await prisma.deviceLamport.create({
      data: { deviceId: device.id, userId: user.id, maxTs: 7n },
    });
    await prisma.syncCompactionWatermark.create({ data: { userId: user.id, compactedUpTo: 40n } });
    const run = await prisma.compactionRun.create({ data: { trigger: "manual" } });
    expect(run.outcome).toBe("running");
    await prisma.compactionRun.update({
      where: { id: run.id },
      data: { outcome: "succeeded", finishedAt: new Date(), usersProcessed: 1, opsDeleted: 3n },
    });

    const loaded = await prisma.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { cursors: true, watermark: true, devices: { include: { lamport: true } } },
    });
    expect(loaded.cursors[0]?.lastSeenId).toBe(42n);
    expect(loaded.watermark?.compactedUpTo).toBe(40n);
    expect(loaded.devices[0]?.lamport?.maxTs).toBe(7n);
    // The compaction MIN reads this index; make sure the migration created it.
    const indexes = await prisma.$queryRaw<{ indexname: string }[]>`
      SELECT indexname FROM pg_indexes WHERE tablename = 'device_sync_cursor' ORDER BY indexname`;
    expect(indexes.map((i) => i.indexname)).toContain(
      "device_sync_cursor_user_id_last_seen_at_last_seen_id_idx",
    );
  });

  it("deleting a user cascades to everything it owns", async () => {
    const { user, device } = await userWithDevice();
    await prisma.syncOp.create({
      data: {
        userId: user.id,
        deviceId: device.id,
        operationId: randomUUID(),
        lamportTs: 1n,
        entity: "track",
        entityId: randomUUID(),
        field: "title",
        op: "set",
        value: "Song",
      },
    });
    await prisma.user.delete({ where: { id: user.id } });
    expect(await prisma.syncOp.count({ where: { userId: user.id } })).toBe(0);
    expect(await prisma.device.count({ where: { userId: user.id } })).toBe(0);
  });

  it("convergence audits and audit requests round-trip and go with their device", async () => {
    const { user, device } = await userWithDevice();
    const audit = await prisma.deviceConvergenceAudit.create({
      data: {
        deviceId: device.id,
        userId: user.id,
        trigger: "on_demand",
        cursor: 12n,
        pendingOps: 0,
        deviceHash: "a".repeat(64),
        deviceRows: 3,
        outcome: "mismatch",
        differingBuckets: [7, 9],
        firstDifference: { entity: "playlist", entityId: "p1", field: "name" },
      },
    });
    expect(audit.differingBuckets).toEqual([7, 9]);
    await expect(
      prisma.deviceConvergenceAudit.create({
        data: { ...audit, id: undefined, outcome: "maybe", firstDifference: {} },
      }),
    ).rejects.toThrow();
    await prisma.deviceAuditRequest.create({ data: { deviceId: device.id } });
    await prisma.device.delete({ where: { id: device.id } });
    expect(await prisma.deviceConvergenceAudit.count({ where: { deviceId: device.id } })).toBe(0);
    expect(await prisma.deviceAuditRequest.count({ where: { deviceId: device.id } })).toBe(0);
  });
});
