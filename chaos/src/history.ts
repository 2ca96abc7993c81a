import {
  applyOp,
  compareVersions,
  createLwwState,
  entityKey,
  type JsonValue,
  type LwwOp,
  type MaterializedEntity,
  viewState,
} from "@chorus/protocol";
import pg from "pg";
import type { RecordedOp } from "./ipc.js";
import { canonicalJson } from "./util.js";

/** An op as the server stored it. */
export interface StoredOp extends LwwOp {
  id: number;
  userId: string;
}

interface OpRow {
  id: string;
  user_id: string;
  device_id: string;
  operation_id: string;
  lamport_ts: string;
  entity: string;
  entity_id: string;
  field: string | null;
  op: LwwOp["op"];
  value: JsonValue | null;
}

const toStored = (row: OpRow): StoredOp => ({
  id: Number(row.id),
  userId: row.user_id,
  deviceId: row.device_id,
  operationId: row.operation_id,
  lamportTs: Number(row.lamport_ts),
  entity: row.entity,
  entityId: row.entity_id,
  field: row.field,
  op: row.op,
  value: row.value,
});

export async function withClient<T>(
  url: string,
  run: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Everything the run wrote, from both ends: the ops each device committed (reported by the
 * device after its transaction) and every op the server ever stored (read in id order while
 * the run goes on, so ops compaction later deletes are still known). The poller also proves
 * ids become visible in increasing order per user: a row that appears below the position a
 * reader already passed is one a subscriber would have skipped forever.
 */
export class History {
  readonly recorded = new Map<string, RecordedOp & { userId: string }>();
  readonly stored = new Map<number, StoredOp>();
  /** Per user: the highest id the poller has read. */
  readonly position = new Map<string, number>();
  readonly lateVisible: StoredOp[] = [];
  /** Users compacted at least once (a missing superseded op may have been compacted). */
  readonly compactedUsers = new Set<string>();

  record(userId: string, ops: readonly RecordedOp[]): void {
    for (const op of ops) this.recorded.set(op.operationId, { ...op, userId });
  }

  /** Reads every user's new rows (id above the position); a failure (Postgres down) is skipped. */
  async poll(url: string, userIds: readonly string[]): Promise<boolean> {
    try {
      await withClient(url, (client) => this.pollWith(client, userIds));
      return true;
    } catch {
      return false;
    }
  }

  /** One poll on an open connection (a tight poller keeps one). */
  async pollWith(client: pg.Client, userIds: readonly string[]): Promise<void> {
    for (const userId of userIds) {
      const after = this.position.get(userId) ?? 0;
      const { rows } = await client.query<OpRow>(
        `SELECT id, user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value
           FROM sync_op WHERE user_id = $1 AND id > $2 ORDER BY id`,
        [userId, after],
      );
      for (const row of rows) this.stored.set(Number(row.id), toStored(row));
      const last = rows.at(-1);
      if (last) this.position.set(userId, Number(last.id));
    }
  }

  /** The full table at the end: rows never seen though below the poller's position are late. */
  async finalScan(url: string, userIds: readonly string[]): Promise<StoredOp[]> {
    return await withClient(url, async (client) => {
      const { rows } = await client.query<OpRow>(
        `SELECT id, user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value
           FROM sync_op WHERE user_id = ANY($1::uuid[]) ORDER BY id`,
        [userIds],
      );
      const current = rows.map(toStored);
      for (const op of current) {
        if (!this.stored.has(op.id) && op.id <= (this.position.get(op.userId) ?? 0)) {
          this.lateVisible.push(op);
        }
        this.stored.set(op.id, op);
      }
      return current;
    });
  }

  /**
   * Every op known for a user: the server's, and the devices' not stored (yet, or ever). A
   * stored op stands for the op its device recorded: a profile bound anew after a revocation
   * uploads its queued ops under its new device id, so the stored version is the one every
   * device holds.
   */
  opsOf(userId: string): LwwOp[] {
    const stored = [...this.stored.values()].filter((op) => op.userId === userId);
    const storedIds = new Set(stored.map((op) => op.operationId));
    const all: LwwOp[] = [...stored];
    for (const op of this.recorded.values())
      if (op.userId === userId && !storedIds.has(op.operationId)) all.push(op);
    return all;
  }
}

/** The visible library as LWW views: key entity/id -> fields (deleted entities are absent). */
export type View = Map<string, Readonly<Record<string, JsonValue>>>;

export function foldView(ops: Iterable<LwwOp>): View {
  const state = createLwwState();
  for (const op of ops) applyOp(state, op);
  return visible(viewState(state));
}

function visible(state: ReadonlyMap<string, MaterializedEntity>): View {
  const view: View = new Map();
  for (const [key, entity] of state) if (!entity.deleted) view.set(key, entity.fields);
  return view;
}

/** The views of a device's registers (lww_entity, lww_field of its SQLite profile). */
export function deviceView(db: { prepare(sql: string): { all(): unknown[] } }): View {
  const state = createLwwState();
  const stand = (
    entity: string,
    entityId: string,
    op: LwwOp["op"],
    field: string | null,
    ts: number,
    device: string,
    operationId: string,
    value: JsonValue | null,
  ): LwwOp => ({
    entity,
    entityId,
    op,
    field,
    lamportTs: ts,
    deviceId: device,
    operationId,
    value,
  });
  const entities = db.prepare("SELECT * FROM lww_entity").all() as {
    entity: string;
    entity_id: string;
    tombstone_ts: number | null;
    tombstone_device: string | null;
    tombstone_op: string | null;
    write_ts: number | null;
    write_device: string | null;
    write_op: string | null;
  }[];
  for (const e of entities) {
    if (e.tombstone_ts !== null && e.tombstone_device && e.tombstone_op)
      applyOp(
        state,
        stand(
          e.entity,
          e.entity_id,
          "delete",
          null,
          e.tombstone_ts,
          e.tombstone_device,
          e.tombstone_op,
          null,
        ),
      );
    if (e.write_ts !== null && e.write_device && e.write_op)
      applyOp(
        state,
        stand(e.entity, e.entity_id, "set", null, e.write_ts, e.write_device, e.write_op, null),
      );
  }
  const fields = db.prepare("SELECT * FROM lww_field").all() as {
    entity: string;
    entity_id: string;
    field: string;
    lamport_ts: number;
    device_id: string;
    operation_id: string;
    value: string;
  }[];
  for (const f of fields) {
    applyOp(
      state,
      stand(
        f.entity,
        f.entity_id,
        "set",
        f.field,
        f.lamport_ts,
        f.device_id,
        f.operation_id,
        JSON.parse(f.value) as JsonValue,
      ),
    );
  }
  return visible(viewState(state));
}

export interface Divergence {
  key: string;
  field: string;
  expected: unknown;
  seen: unknown;
}

/** The first difference between two views, in key order; null when equal. */
export function firstDivergence(expected: View, seen: View): Divergence | null {
  const keys = [...new Set([...expected.keys(), ...seen.keys()])].sort();
  for (const key of keys) {
    const a = expected.get(key);
    const b = seen.get(key);
    if (!a || !b) {
      return {
        key,
        field: "(entity)",
        expected: a ? "visible" : "absent",
        seen: b ? "visible" : "absent",
      };
    }
    const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const field of fields) {
      if (canonicalJson(a[field]) !== canonicalJson(b[field])) {
        return { key, field, expected: a[field], seen: b[field] };
      }
    }
  }
  return null;
}

/** Whether `op` lost to another op of the history on every register it wrote (LWW). */
export function superseded(op: LwwOp, history: readonly LwwOp[]): boolean {
  const newer = (other: LwwOp) =>
    other.operationId !== op.operationId &&
    other.entity === op.entity &&
    other.entityId === op.entityId &&
    (compareVersions(other, op) > 0 ||
      (compareVersions(other, op) === 0 &&
        other.operationId.toLowerCase() > op.operationId.toLowerCase()));
  if (op.op === "delete") return history.some((o) => o.op === "delete" && newer(o));
  const fields =
    op.field !== null
      ? [op.field]
      : op.value && typeof op.value === "object" && !Array.isArray(op.value)
        ? Object.keys(op.value)
        : [];
  return fields.every((field) =>
    history.some(
      (o) =>
        newer(o) &&
        (o.op === "delete" ||
          o.field === field ||
          (o.field === null &&
            o.op === "insert" &&
            typeof o.value === "object" &&
            o.value !== null &&
            field in o.value)),
    ),
  );
}

export { entityKey };
