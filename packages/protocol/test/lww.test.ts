import { describe, expect, it } from "vitest";
import {
  compactionSurvivors,
  compareVersions,
  entityKey,
  type LwwOp,
  materialize,
} from "../src/index.js";
import { DEVICE_A, DEVICE_B, uuid } from "./fixtures.js";

const TRACK = "0f8fad5b-d9cb-469f-a165-70867728950e";
const key = entityKey("track", TRACK);

function op(
  kind: LwwOp["op"],
  lamportTs: number,
  deviceId: string,
  field: string | null,
  value: LwwOp["value"] = null,
): LwwOp {
  return {
    operationId: uuid(),
    lamportTs,
    deviceId,
    entity: "track",
    entityId: TRACK,
    field,
    op: kind,
    value,
  };
}

describe("compareVersions", () => {
  it("orders by lamportTs, then by device id, case-insensitively", () => {
    expect(
      compareVersions({ lamportTs: 1, deviceId: DEVICE_B }, { lamportTs: 2, deviceId: DEVICE_A }),
    ).toBe(-1);
    expect(
      compareVersions({ lamportTs: 2, deviceId: DEVICE_B }, { lamportTs: 2, deviceId: DEVICE_A }),
    ).toBe(1);
    expect(
      compareVersions(
        { lamportTs: 2, deviceId: DEVICE_A.toUpperCase() },
        { lamportTs: 2, deviceId: DEVICE_A },
      ),
    ).toBe(0);
  });
});

describe("materialize", () => {
  it("keeps the last writer of each field independently", () => {
    const state = materialize([
      op("set", 1, DEVICE_A, "title", "So What"),
      op("set", 3, DEVICE_A, "rating", 4),
      op("set", 2, DEVICE_B, "title", "Freddie Freeloader"),
    ]);
    expect(state.get(key)?.fields).toEqual({ rating: 4, title: "Freddie Freeloader" });
  });

  it("breaks a lamportTs tie by device id", () => {
    const state = materialize([
      op("set", 5, DEVICE_B, "title", "B"),
      op("set", 5, DEVICE_A, "title", "A"),
    ]);
    expect(state.get(key)?.fields).toEqual({ title: "B" });
  });

  it("lets a delete hide every older field write", () => {
    const state = materialize([
      op("insert", 1, DEVICE_A, null, { title: "Kind of Blue", rating: 5 }),
      op("set", 2, DEVICE_B, "title", "Blue"),
      op("delete", 3, DEVICE_A, null),
    ]);
    expect(state.get(key)).toEqual({
      entity: "track",
      entityId: TRACK,
      deleted: true,
      fields: {},
      tombstone: { lamportTs: 3, deviceId: DEVICE_A },
    });
  });

  it("resurrects only the fields written after the delete", () => {
    const state = materialize([
      op("insert", 1, DEVICE_A, null, { title: "Kind of Blue", rating: 5 }),
      op("delete", 3, DEVICE_A, null),
      op("set", 4, DEVICE_B, "rating", 2),
    ]);
    expect(state.get(key)?.deleted).toBe(false);
    expect(state.get(key)?.fields).toEqual({ rating: 2 });
  });

  it("recreates an entity with an insert newer than its delete", () => {
    const state = materialize([
      op("delete", 3, DEVICE_A, null),
      op("insert", 4, DEVICE_B, null, null),
    ]);
    expect(state.get(key)).toMatchObject({ deleted: false, fields: {} });
  });

  it("ignores noops", () => {
    expect(materialize([op("noop", 1, DEVICE_A, null)]).size).toBe(0);
  });

  it("lists entities in key order whatever the order of the ops", () => {
    const other = { ...op("set", 1, DEVICE_A, "title", "x"), entity: "album" };
    const state = materialize([op("set", 1, DEVICE_A, "title", "y"), other]);
    expect([...state.keys()]).toEqual([entityKey("album", TRACK), key]);
  });
});

describe("compactionSurvivors", () => {
  it("keeps the tombstone and what outlives it, drops superseded writes and noops", () => {
    const superseded = op("set", 1, DEVICE_A, "title", "old");
    const hidden = op("set", 2, DEVICE_B, "rating", 3);
    const tombstone = op("delete", 3, DEVICE_A, null);
    const olderTombstone = op("delete", 2, DEVICE_A, null);
    const resurrecting = op("set", 4, DEVICE_B, "title", "new");
    const noop = op("noop", 5, DEVICE_A, null);
    const ops = [superseded, hidden, olderTombstone, tombstone, resurrecting, noop];
    expect(compactionSurvivors(ops)).toEqual([tombstone, resurrecting]);
  });

  it("keeps an insert that still wins one of its initial fields", () => {
    const insert = op("insert", 1, DEVICE_A, null, { title: "t", rating: 1 });
    const newerTitle = op("set", 2, DEVICE_A, "title", "t2");
    expect(compactionSurvivors([insert, newerTitle])).toEqual([insert, newerTitle]);
  });
});
