import { randomUUID } from "node:crypto";
import { auditBucket, auditDetailRow, type JsonValue, type LwwOp } from "@chorus/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveAuditDetail, runConvergenceAudit, sha256 } from "../src/diagnostics/convergence.js";
import { ApiTestbed, foldedAudit } from "./support.js";

/*
 * The server's side of the audit reads the log one entity at a time, in PostgreSQL's byte
 * order through a cursor, so that a large account is audited in bounded memory (ADR 0032).
 * Its digest must be exactly the one folding the whole log in id order gives (the protocol's
 * digestAudit over auditRows, as the server computed it before): over random histories —
 * several writers, Lamport ties broken by device id, deletes and re-creates, inserts of whole
 * rows, noops, values whose JSONB key order differs from the written one, the auditing
 * device's own ops after its cursor, entity ids whose byte order is not the code-unit order
 * (characters above U+FFFF beside U+E000..U+FFFF, where the stream falls back to the fold in
 * memory) — and fetches as small as one op, so an entity's ops span fetches.
 */

let bed: ApiTestbed;
beforeAll(async () => {
  bed = await ApiTestbed.start();
});
afterAll(async () => {
  await bed?.close();
});

interface GeneratedOp {
  writer: number;
  lamportTs: number;
  entity: string;
  entityId: string;
  field: string | null;
  op: "set" | "insert" | "delete" | "noop";
  value: JsonValue | null;
}

const BMP_IDS = ["a", "a0", "B", "b", "é", "zz", "Ω", "t-1", "t-10", "t-2"];
/** Ids whose UTF-8 byte order differs from their UTF-16 code-unit order. */
const ASTRAL_IDS = ["\u{1F3B5}", "\uE000", "\uFFFD x", "\u{10000}"];

const value: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant<JsonValue>({ z: 1, a: [2, { y: "x", b: null }] }),
);

const generatedOp = (ids: string[]): fc.Arbitrary<GeneratedOp> =>
  fc
    .record({
      writer: fc.nat(2),
      lamportTs: fc.integer({ min: 1, max: 12 }),
      entity: fc.constantFrom("playlist", "track"),
      entityId: fc.constantFrom(...ids),
      kind: fc.constantFrom("set", "set", "set", "insert", "delete", "noop" as const),
      field: fc.constantFrom("name", "title", "rating"),
      value,
      row: fc.dictionary(fc.constantFrom("name", "title", "rating"), value, { maxKeys: 3 }),
    })
    .map(({ writer, lamportTs, entity, entityId, kind, field, value, row }) => ({
      writer,
      lamportTs,
      entity,
      entityId,
      field: kind === "set" ? field : null,
      op: kind,
      value: kind === "set" ? value : kind === "insert" ? row : null,
    }));

const history = fc.oneof(
  fc.array(generatedOp(BMP_IDS), { minLength: 1, maxLength: 40 }),
  fc.array(generatedOp([...BMP_IDS, ...ASTRAL_IDS]), { minLength: 1, maxLength: 40 }),
);

describe("convergence audit on the server, streamed one entity at a time", () => {
  it("digests a random log exactly as folding the whole log in memory does, at any fetch size", async () => {
    await fc.assert(
      fc.asyncProperty(
        history,
        fc.integer({ min: 1, max: 4 }),
        fc.nat(100),
        fc.nat(2),
        async (generated, fetchRows, cut, auditor) => {
          // A user of its own per run: a failed run's ops cannot leak into the next one.
          const userId = await bed.user();
          const devices = [
            await bed.device(userId, "w0"),
            await bed.device(userId, "w1"),
            await bed.device(userId, "w2"),
          ];
          // One op per (device, Lamport stamp), as the push guarantees.
          const seen = new Set<string>();
          const ops = generated.filter((op) => {
            const key = `${op.writer}/${op.lamportTs}`;
            if (seen.has(key)) return false;
            seen.add(key);
            return true;
          });
          const stored: Array<LwwOp & { id: number }> = [];
          for (const op of ops) {
            const [row] = await bed.prisma.$queryRaw<
              { id: bigint; operation_id: string; value: JsonValue | null }[]
            >`
              INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id,
                                   field, op, value)
              VALUES (${userId}::uuid, ${devices[op.writer]}::uuid, ${randomUUID()}::uuid,
                      ${op.lamportTs}, ${op.entity}, ${op.entityId}, ${op.field},
                      ${op.op}::"SyncOpKind", ${op.value === null ? null : JSON.stringify(op.value)}::jsonb)
              RETURNING id, operation_id::text AS operation_id, value`;
            stored.push({
              id: Number(row?.id),
              operationId: row?.operation_id ?? "",
              lamportTs: op.lamportTs,
              deviceId: devices[op.writer] as string,
              entity: op.entity,
              entityId: op.entityId,
              field: op.field,
              op: op.op,
              // As stored: JSONB's own key order, as the server reads it back.
              value: row?.value ?? null,
            });
          }
          const deviceId = devices[auditor] as string;
          const cursor = stored[Math.min(stored.length - 1, cut % stored.length)]?.id ?? 0;
          // What a device at `cursor` holds: the log up to it plus its own later ops.
          const held = stored.filter((op) => op.id <= cursor || op.deviceId === deviceId);
          const { rows, digest } = foldedAudit(held);
          const device = { id: deviceId, userId };
          const input = { trigger: "on_demand" as const, cursor, pendingOps: 0, ...digest };
          const streamed = await runConvergenceAudit(bed.prisma, device, input, { fetchRows });
          expect(streamed).toMatchObject({
            outcome: "match",
            serverHash: digest.hash,
            serverRows: digest.rows,
          });
          // The detail of a bucket is read the same way: the same rows as the whole fold's.
          const first = rows[0];
          if (first) {
            const bucket = auditBucket(first.entity, first.entityId);
            const mismatch = await runConvergenceAudit(bed.prisma, device, {
              ...input,
              hash: "0".repeat(64),
              buckets: digest.buckets.map((b, i) => (i === bucket ? "0".repeat(16) : b)),
            });
            const detail = rows
              .filter((row) => auditBucket(row.entity, row.entityId) === bucket)
              .map((row) => auditDetailRow(row, sha256));
            expect(
              await resolveAuditDetail(bed.prisma, device, {
                auditId: mismatch.auditId,
                bucket,
                rows: detail,
                complete: true,
              }),
            ).toEqual({ firstDifference: null });
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 240_000);
});
