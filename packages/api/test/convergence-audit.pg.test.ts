import { auditBucket, auditDetailRow, type LwwOp, type OpInput } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDITS_KEPT_PER_DEVICE,
  readAudits,
  resolveAuditDetail,
  runConvergenceAudit,
  sha256,
} from "../src/diagnostics/convergence.js";
import { ApiTestbed, foldedAudit, setOp } from "./support.js";

/*
 * The server's side of the convergence audit against real Postgres: what it folds for a
 * position, why it refuses to compare, how a cut detail is read, and how many audits it keeps.
 * The device's side is played by the protocol's own functions over the ops it would hold.
 */

let bed: ApiTestbed;
beforeAll(async () => {
  bed = await ApiTestbed.start();
});
afterAll(async () => {
  await bed?.close();
});

const asLww = (op: OpInput, deviceId: string): LwwOp => ({ ...op, deviceId });

async function account() {
  const userId = await bed.user();
  const laptop = await bed.device(userId, "laptop");
  const studio = await bed.device(userId, "studio");
  return { userId, laptop, studio };
}

describe("convergence audit on the server", () => {
  it("folds the user's ops up to the cursor plus the device's own later ops, nothing else", async () => {
    const { userId, laptop, studio } = await account();
    const early = [setOp("p1", "name", "One"), setOp("p2", "name", "Two")];
    const [, upTo] = await bed.push(userId, studio, early);
    const own = [setOp("p3", "name", "Mine")];
    await bed.push(userId, laptop, own);
    // Another device's op after the cursor: the laptop has not seen it.
    await bed.push(userId, studio, [setOp("p1", "name", "Later")]);
    const holds = [...early.map((op) => asLww(op, studio)), ...own.map((op) => asLww(op, laptop))];
    const { digest } = foldedAudit(holds);
    const device = { id: laptop, userId };
    const input = { trigger: "on_demand" as const, cursor: upTo ?? 0, pendingOps: 0, ...digest };
    expect(await runConvergenceAudit(bed.prisma, device, input)).toMatchObject({
      outcome: "match",
      serverHash: digest.hash,
    });
    // Holding the later op too is not the state at that position.
    const ahead = foldedAudit([...holds, asLww(setOp("p1", "name", "Later"), studio)]);
    const answer = await runConvergenceAudit(bed.prisma, device, { ...input, ...ahead.digest });
    expect(answer.outcome).toBe("mismatch");
    expect(answer.differingBuckets).toEqual([auditBucket("playlist", "p1")]);
  });

  it("does not compare below the watermark, past the newest op, or with ops waiting", async () => {
    const { userId, laptop } = await account();
    const [first, second] = await bed.push(userId, laptop, [
      setOp("p1", "name", "A"),
      setOp("p1", "name", "B"),
    ]);
    const device = { id: laptop, userId };
    const { digest } = foldedAudit([]);
    const base = { trigger: "on_demand" as const, pendingOps: 0, ...digest };
    expect(
      await runConvergenceAudit(bed.prisma, device, { ...base, cursor: first ?? 0, pendingOps: 2 }),
    ).toMatchObject({ outcome: "not_comparable", reason: "pending_ops", serverHash: null });
    expect(
      await runConvergenceAudit(bed.prisma, device, { ...base, cursor: (second ?? 0) + 1_000 }),
    ).toMatchObject({ outcome: "not_comparable", reason: "beyond_head" });
    await bed.prisma.$executeRaw`
      INSERT INTO sync_compaction_watermark (user_id, compacted_up_to, updated_at)
      VALUES (${userId}::uuid, ${second ?? 0}, now())`;
    expect(
      await runConvergenceAudit(bed.prisma, device, { ...base, cursor: first ?? 0 }),
    ).toMatchObject({ outcome: "not_comparable", reason: "below_watermark" });
  });

  it("names the first difference from a detail, and reads a cut detail only up to its last row", async () => {
    const { userId, laptop } = await account();
    // Many entities in one bucket: find ids that share p0's bucket.
    const bucket = auditBucket("playlist", "p0");
    const ids: string[] = [];
    for (let i = 0; ids.length < 3; i++) {
      if (auditBucket("playlist", `p${i}`) === bucket) ids.push(`p${i}`);
    }
    const ops = ids.map((id) => setOp(id, "name", `Name of ${id}`));
    const pushed = await bed.push(userId, laptop, ops);
    const device = { id: laptop, userId };
    // The device changed the LAST entity of the bucket (in row order).
    const sorted = [...ids].sort();
    const last = sorted.at(-1) as string;
    const held = ops.map((op) =>
      asLww(op.entityId === last ? { ...op, value: "Changed by hand" } : op, laptop),
    );
    const { rows, digest } = foldedAudit(held);
    const answer = await runConvergenceAudit(bed.prisma, device, {
      trigger: "on_demand",
      cursor: pushed.at(-1) ?? 0,
      pendingOps: 0,
      ...digest,
    });
    expect(answer.differingBuckets).toEqual([bucket]);
    const detail = rows.map((row) => auditDetailRow(row, sha256));
    expect(
      await resolveAuditDetail(bed.prisma, device, {
        auditId: answer.auditId,
        bucket,
        rows: detail,
        complete: true,
      }),
    ).toEqual({
      firstDifference: {
        entity: "playlist",
        entityId: last,
        field: "name",
        device: { value: '"Changed by hand"', lamportTs: expect.any(Number), deviceId: laptop },
        server: { value: `"Name of ${last}"`, lamportTs: expect.any(Number), deviceId: laptop },
      },
    });
    // Cut before the changed entity: the server's rows after the cut are not "missing on the
    // device", so no difference is named from that part.
    const cut = detail.filter((row) => row.entityId !== last);
    expect(
      await resolveAuditDetail(bed.prisma, device, {
        auditId: answer.auditId,
        bucket,
        rows: cut,
        complete: false,
      }),
    ).toEqual({ firstDifference: null });
    // The stored audit keeps the newest answer; another device cannot read its detail.
    await expect(
      resolveAuditDetail(
        bed.prisma,
        { id: await bed.device(userId, "other"), userId },
        { auditId: answer.auditId, bucket, rows: detail, complete: true },
      ),
    ).rejects.toThrow(/no mismatched audit/);
  });

  it(`keeps the newest ${AUDITS_KEPT_PER_DEVICE} audits of each device`, async () => {
    const { userId, laptop } = await account();
    const { digest } = foldedAudit([]);
    const device = { id: laptop, userId };
    for (let i = 0; i < AUDITS_KEPT_PER_DEVICE + 5; i++) {
      await runConvergenceAudit(bed.prisma, device, {
        trigger: "on_demand",
        cursor: 0,
        pendingOps: i,
        ...digest,
      });
    }
    const { audits } = await readAudits(bed.prisma, laptop, 100);
    expect(audits).toHaveLength(AUDITS_KEPT_PER_DEVICE);
    expect(audits[0]?.pendingOps).toBe(AUDITS_KEPT_PER_DEVICE + 4);
  });
});
