import { randomUUID } from "node:crypto";
import { type PrismaClient, poolOf } from "@chorus/db";
import { SEALED_KEY, type SyncOp } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPage } from "../src/sync/ops-store.js";
import { ApiTestbed } from "./support.js";

let bed: ApiTestbed;
let other: PrismaClient;
beforeAll(async () => {
  bed = await ApiTestbed.start();
  // The same client seen through a proxy: not one createPrisma made, so it has no pool and
  // its pages go through Prisma's query engine.
  other = new Proxy(bed.prisma, {
    get: (target, name) => {
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as PrismaClient;
});
afterAll(async () => {
  await bed?.close();
});

const base64url = (bytes: number) =>
  Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 37 + 11) % 256)).toString("base64url");

/** Values of every shape a page carries: sealed, plain, nested, odd numbers and text. */
function valueFor(i: number): unknown {
  switch (i % 12) {
    case 0:
      return { [SEALED_KEY]: 1, e: 2, n: base64url(24), c: base64url(40 + i) };
    case 1:
      return `plain ${i} ü ✓ "quoted" \\ back\nline 🎵`;
    case 2:
      // Large: near the per-value limit, so byte bounds cut around it.
      return { [SEALED_KEY]: 1, e: 2, n: base64url(24), c: base64url(45_000 + i) };
    case 3:
      return {
        b: [1, 2.5, -0.125, 1e21, true, null],
        a: { z: "" },
      };
    case 4:
      return null; // JSON null, stored as a JSON value (not SQL NULL)
    case 5:
      return 9007199254740991;
    case 6:
      return "x".repeat(20_000 + i);
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return 0.1;
    case 10:
      return false;
    default:
      return { title: `t${i}`, tags: ["a", "b"], nested: { deep: { deeper: [i] } } };
  }
}

/** Stores ops straight into sync_op (sealed envelopes need no key here): sets, inserts, deletes. */
let lamport = 0;
async function seed(
  userId: string,
  deviceId: string,
  count: number,
  options: { lastAtMax?: boolean } = {},
): Promise<void> {
  const start = Date.UTC(2026, 0, 1, 23, 59, 59, 1);
  for (let i = 0; i < count; i++) {
    const last = options.lastAtMax === true && i === count - 1;
    const kind = i % 9 === 4 ? "delete" : i % 9 === 7 ? "noop" : i % 5 === 1 ? "insert" : "set";
    const field = kind === "delete" ? null : kind === "insert" && i % 2 === 0 ? null : `f${i % 4}`;
    const value =
      kind === "delete"
        ? null
        : kind === "insert" && field === null
          ? { name: `n${i}` }
          : valueFor(i);
    await bed.prisma.$executeRawUnsafe(
      `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4::bigint, $5, $6, $7, $8::"SyncOpKind", $9::jsonb, $10::timestamptz)`,
      userId,
      deviceId,
      randomUUID(),
      // Lamport stamps far apart, the last up to the largest wire integer.
      (last ? BigInt(Number.MAX_SAFE_INTEGER) : BigInt(++lamport * 1_000_003)).toString(),
      i % 3 === 0 ? "playlist" : "track_tag",
      i % 7 === 0 ? `entité-${i}-${"é".repeat(i % 40)}` : randomUUID(),
      field,
      kind,
      // SQL NULL for deletes; a JSON value (JSON null included) for the rest.
      kind === "delete" ? null : JSON.stringify(value),
      new Date(start + i * 86_399_937).toISOString(),
    );
  }
}

type Page = { ops: SyncOp[]; more: boolean };

async function bothWays(
  userId: string,
  since: number,
  limit: number,
  options: { checkWatermark: boolean; maxBytes?: number },
): Promise<{ pool: Page; prisma: Page }> {
  const [pool, prisma] = await Promise.all([
    readPage(bed.prisma, userId, since, limit, options),
    readPage(other, userId, since, limit, options),
  ]);
  return { pool, prisma };
}

/** The pages compared as the wire carries them (JSON text) and as values (types and all). */
function expectSame(pool: Page, prisma: Page, what: string): void {
  expect(JSON.stringify(pool), what).toBe(JSON.stringify(prisma));
  expect(pool, what).toStrictEqual(prisma);
}

describe("a page read on createPrisma's pool", () => {
  it("answers exactly what Prisma's query engine answers: same ops, order, formats, bounds and hasMore", async () => {
    expect(poolOf(bed.prisma)).not.toBeNull();
    expect(poolOf(other)).toBeNull();
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    // Another user's ops interleaved: never part of this user's pages.
    const stranger = await bed.user();
    const strangerDevice = await bed.device(stranger);
    await seed(stranger, strangerDevice, 5);
    await seed(userId, deviceId, 48, { lastAtMax: true });
    await seed(stranger, strangerDevice, 5);

    const all = await readPage(other, userId, 0, 1000, { checkWatermark: true });
    expect(all.ops).toHaveLength(48);
    expect(all.more).toBe(false);
    expect(all.ops.some((op) => op.op === "delete" && op.value === null)).toBe(true);
    expect(
      all.ops.some(
        (op) => op.value !== null && typeof op.value === "object" && SEALED_KEY in op.value,
      ),
    ).toBe(true);
    const ids = all.ops.map((op) => op.id);

    let compared = 0;
    let cutByBytes = 0;
    for (const since of [0, ...ids, (ids.at(-1) ?? 0) + 1_000]) {
      for (const limit of [1, 2, 7, 1000]) {
        for (const maxBytes of [undefined, 1, 400, 21_000, 50_000, 120_000]) {
          const options = { checkWatermark: true, maxBytes };
          const { pool, prisma } = await bothWays(userId, since, limit, options);
          expectSame(pool, prisma, `since ${since}, limit ${limit}, maxBytes ${maxBytes}`);
          if (pool.more && pool.ops.length < limit) cutByBytes++;
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(cutByBytes).toBeGreaterThan(0); // the byte bound did cut pages, and the same way

    // A full resync paged through both ways, one page after the other.
    for (const [limit, maxBytes] of [
      [5, 30_000],
      [1000, 100_000],
    ] as const) {
      const walks: SyncOp[][] = [];
      for (const client of [bed.prisma, other]) {
        const walked: SyncOp[] = [];
        let since = 0;
        for (;;) {
          const page = await readPage(client, userId, since, limit, {
            checkWatermark: false,
            maxBytes,
          });
          walked.push(...page.ops);
          since = page.ops.at(-1)?.id ?? since;
          if (!page.more) break;
        }
        walks.push(walked);
      }
      expect(JSON.stringify(walks[0])).toBe(JSON.stringify(walks[1]));
      expect(walks[0]).toHaveLength(48);
    }
  });

  it("an empty page and a compaction watermark: the same answer or the same resync_required", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const empty = await bothWays(userId, 0, 10, { checkWatermark: true });
    expectSame(empty.pool, empty.prisma, "no ops at all");
    expect(empty.pool).toEqual({ ops: [], more: false });

    await seed(userId, deviceId, 6);
    const all = await readPage(other, userId, 0, 1000, { checkWatermark: true });
    const ids = all.ops.map((op) => op.id);
    await bed.prisma.$executeRawUnsafe(
      `INSERT INTO sync_compaction_watermark (user_id, compacted_up_to, updated_at) VALUES ($1::uuid, $2::bigint, now())`,
      userId,
      String(ids[3] ?? 0),
    );
    const [first = 0, , , watermark = 0, , newest = 0] = ids;
    for (const since of [0, first, watermark, newest]) {
      for (const checkWatermark of [true, false]) {
        const [pool, prisma] = await Promise.allSettled([
          readPage(bed.prisma, userId, since, 2, { checkWatermark }),
          readPage(other, userId, since, 2, { checkWatermark }),
        ]);
        const what = `since ${since}, checkWatermark ${checkWatermark}`;
        expect(pool.status, what).toBe(prisma.status);
        if (pool.status === "fulfilled" && prisma.status === "fulfilled") {
          expectSame(pool.value, prisma.value, what);
        } else if (pool.status === "rejected" && prisma.status === "rejected") {
          expect(String(pool.reason), what).toBe(String(prisma.reason));
          expect(pool.reason.payload ?? pool.reason, what).toEqual(
            prisma.reason.payload ?? prisma.reason,
          );
        }
        if (checkWatermark && since > 0 && since < watermark)
          expect(pool.status, what).toBe("rejected");
      }
    }
  });
});
