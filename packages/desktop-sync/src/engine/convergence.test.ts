import { createHash } from "node:crypto";
import {
  AUDIT_BUCKETS,
  auditBucket,
  auditDetailRow,
  auditRows,
  digestAudit,
  type SyncOp,
} from "@chorus/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LibraryState } from "../library-state.js";
import { loadAllRegisters } from "../lww/registers.js";
import type { Profile } from "../profiles.js";
import { openTempProfile } from "../test-support.js";
import { snapshotForAudit } from "./convergence.js";

/*
 * The device's audit snapshot streams the registers a page of entities at a time; its digests
 * and a bucket's detail must be exactly those of the whole state sorted in memory (what the
 * server computes), across page boundaries and entity types.
 */

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const DEVICES = ["0a000000-0000-4000-8000-00000000000a", "0B000000-0000-4000-8000-00000000000B"];

let fixture: ReturnType<typeof openTempProfile>;
let profile: Profile;
let library: LibraryState;
beforeEach(() => {
  fixture = openTempProfile(() => DEVICES[0] as string);
  ({ profile, library } = fixture);
});
afterEach(() => fixture.dispose());

/** 2,600 entities over three types (more than two pages), some deleted, some re-created. */
function fill(): void {
  let id = 0;
  const op = (fields: Partial<SyncOp>): SyncOp => {
    id += 1;
    return {
      id,
      operationId: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
      deviceId: DEVICES[id % 2] as string,
      lamportTs: id,
      entity: "track",
      entityId: "x",
      field: "title",
      op: "set",
      value: `v${id}`,
      createdAt: "2026-12-01T00:00:00.000Z",
      ...fields,
    };
  };
  profile.db.transaction(() => {
    library.batch(() => {
      for (let i = 0; i < 2_600; i++) {
        const entity = ["track", "playlist", "zz_other"][i % 3] as string;
        const entityId = `e${(i * 7919) % 2_600}`;
        library.fold(op({ entity, entityId, value: { nested: { b: 1, a: [i] } } }));
        if (i % 5 === 0) library.fold(op({ entity, entityId, field: "artist", value: i }));
        if (i % 11 === 0) library.fold(op({ entity, entityId, op: "delete", field: null }));
        if (i % 22 === 0) library.fold(op({ entity, entityId, value: "again" }));
      }
    });
  })();
}

describe("the audit snapshot", () => {
  it("streams the same digests and bucket rows as the whole state sorted in memory", () => {
    fill();
    const rows = auditRows(loadAllRegisters(profile.db));
    const whole = digestAudit(rows, sha256);
    const snapshot = snapshotForAudit(library, "on_demand");
    expect(snapshot.input).toMatchObject({
      rows: whole.rows,
      hash: whole.hash,
      buckets: whole.buckets,
    });
    expect(whole.rows).toBeGreaterThan(5_000);
    for (const bucket of [0, 17, AUDIT_BUCKETS - 1]) {
      const expected = rows
        .filter((row) => auditBucket(row.entity, row.entityId) === bucket)
        .map((row) => auditDetailRow(row, sha256));
      expect(snapshot.detail(bucket)).toEqual({ rows: expected, complete: true });
    }
  });

  it("gives no detail for a bucket that changed since the digest", () => {
    fill();
    const snapshot = snapshotForAudit(library, "on_demand");
    const bucket = auditBucket("track", "e0");
    profile.db.transaction(() => {
      library.fold({
        operationId: "00000000-0000-4000-8000-999999999999",
        deviceId: DEVICES[0] as string,
        lamportTs: 1_000_000,
        entity: "track",
        entityId: "e0",
        field: "title",
        op: "set",
        value: "changed",
      });
    })();
    expect(snapshot.detail(bucket)).toBeNull();
  });
});
