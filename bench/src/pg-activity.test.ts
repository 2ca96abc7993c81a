import { describe, expect, it } from "vitest";
import { intervalsOf, labelOf } from "./pg-activity.js";

describe("labelOf", () => {
  const row = (backend_type: string, wait_event: string | null, query: string | null = null) => ({
    backend_type,
    wait_event,
    query,
  });

  it("names a checkpoint unless the checkpointer idles", () => {
    expect(labelOf(row("checkpointer", "CheckpointerMain"))).toBeNull();
    expect(labelOf(row("checkpointer", "CheckpointWriteDelay"))).toBe("checkpoint");
    expect(labelOf(row("checkpointer", null))).toBe("checkpoint");
  });

  it("names autovacuum and autoanalyze by table", () => {
    expect(labelOf(row("autovacuum worker", null, "autovacuum: VACUUM public.sync_op"))).toBe(
      "autovacuum sync_op",
    );
    expect(
      labelOf(row("autovacuum worker", null, "autovacuum: VACUUM ANALYZE public.devices")),
    ).toBe("autovacuum devices");
    expect(labelOf(row("autovacuum worker", null, "autovacuum: ANALYZE public.sync_op"))).toBe(
      "autoanalyze sync_op",
    );
    expect(labelOf(row("autovacuum worker", null, null))).toBe("autovacuum");
  });

  it("names what an active statement waits for, not a client that is being read", () => {
    expect(labelOf(row("client backend", "WALSync"))).toBe("wait WALSync");
    expect(labelOf(row("client backend", null))).toBeNull();
    expect(labelOf(row("client backend", "ClientRead"))).toBeNull();
    expect(labelOf(row("walwriter", "WalWriterMain"))).toBeNull();
  });
});

describe("intervalsOf", () => {
  it("joins consecutive samples of a label into one interval", () => {
    const samples = [
      { at: 0, busy: [] },
      { at: 50, busy: ["checkpoint"] },
      { at: 100, busy: ["checkpoint", "wait WALSync"] },
      { at: 150, busy: [] },
      { at: 200, busy: ["wait WALSync"] },
    ];
    expect(intervalsOf(samples, 50)).toEqual({
      checkpoint: [{ at: 50, ms: 100 }],
      "wait WALSync": [
        { at: 100, ms: 50 },
        { at: 200, ms: 50 },
      ],
    });
  });
});
