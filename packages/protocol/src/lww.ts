import type { SyncOp } from "./op.js";
import type { JsonValue } from "./wire.js";

/*
 * The conflict rule (docs/design.md#conflict-rule), shared by the server's compaction and the device's apply.
 *
 * - Each (entity, entityId, field) is a last-writer-wins register ordered by
 *   (lamportTs, deviceId); `set` and `insert` write registers.
 * - An entity `delete` is a tombstone; the entity keeps its newest tombstone.
 * - A field is visible only if its winning write is newer than the tombstone. A write newer
 *   than the tombstone therefore resurrects the entity with ONLY the fields written after the
 *   delete: older fields stay deleted even if no newer write touched them. This keeps the
 *   result a pure function of the op set (no field survives a delete that happened after it)
 *   and makes "delete then edit on another offline device" visible rather than silently lost.
 * - `noop` changes nothing.
 *
 * Every step takes a maximum over a set, so the result does not depend on the order in which
 * ops arrive, and an op seen twice changes nothing: devices that apply the same ops in any
 * order end in the same state, and compaction may drop every op that wins nothing.
 */

/** The order of writes: Lamport timestamp first, then device id (lower-cased) as tie-break. */
export interface Version {
  readonly lamportTs: number;
  readonly deviceId: string;
}

/** What the rule needs of an op: a stored op, or a pending local one with its device id. */
export type LwwOp = Pick<
  SyncOp,
  "operationId" | "lamportTs" | "deviceId" | "entity" | "entityId" | "field" | "op" | "value"
>;

function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** < 0 when a was written before b, > 0 after, 0 for the same version. */
export function compareVersions(a: Version, b: Version): -1 | 0 | 1 {
  if (a.lamportTs !== b.lamportTs) return a.lamportTs < b.lamportTs ? -1 : 1;
  return compareStrings(a.deviceId.toLowerCase(), b.deviceId.toLowerCase());
}

/*
 * (lamportTs, deviceId) is unique per op (the server enforces it per device), so the
 * operationId tie-break only decides between copies of one op, or for malformed input, where
 * it still makes every replica pick the same winner.
 */
function compareOps(a: LwwOp, b: LwwOp): number {
  return (
    compareVersions(a, b) ||
    compareStrings(a.operationId.toLowerCase(), b.operationId.toLowerCase())
  );
}

/** Key of an entity in a materialized state; unambiguous because entity names have no "/". */
export function entityKey(entity: string, entityId: string): string {
  return `${entity}/${entityId}`;
}

interface FieldRegister<T extends LwwOp> {
  readonly op: T;
  readonly value: JsonValue;
}

interface EntityRegisters<T extends LwwOp> {
  readonly entity: string;
  readonly entityId: string;
  tombstone: T | null;
  /** Newest set/insert, whatever field it wrote: decides whether the entity outlives its tombstone. */
  lastWrite: T | null;
  readonly fields: Map<string, FieldRegister<T>>;
}

/** Registers folded so far; feed it with `applyOp`, read it with `viewState`. */
export type LwwState<T extends LwwOp = LwwOp> = Map<string, EntityRegisters<T>>;

export function createLwwState<T extends LwwOp = LwwOp>(): LwwState<T> {
  return new Map();
}

/** The fields a write (not a delete) sets, with their values: its field, or an insert's object. */
export function fieldWrites(op: LwwOp): Array<[string, JsonValue]> {
  if (op.field !== null) return [[op.field, op.value]];
  const value = op.value;
  if (op.op === "insert" && typeof value === "object" && value !== null && !Array.isArray(value)) {
    return Object.entries(value);
  }
  return [];
}

/** Whether `a` wins over `b` under the rule (version, then lower-cased operation id). */
export function isNewer(a: LwwOp, b: LwwOp | null): boolean {
  return b === null || compareOps(a, b) > 0;
}

/** Folds one op into the state. */
export function applyOp<T extends LwwOp>(state: LwwState<T>, op: T): void {
  if (op.op === "noop") return;
  const key = entityKey(op.entity, op.entityId);
  let registers = state.get(key);
  if (registers === undefined) {
    registers = {
      entity: op.entity,
      entityId: op.entityId,
      tombstone: null,
      lastWrite: null,
      fields: new Map(),
    };
    state.set(key, registers);
  }
  if (op.op === "delete") {
    if (isNewer(op, registers.tombstone)) registers.tombstone = op;
    return;
  }
  if (isNewer(op, registers.lastWrite)) registers.lastWrite = op;
  for (const [field, value] of fieldWrites(op)) {
    const current = registers.fields.get(field);
    if (current === undefined || isNewer(op, current.op))
      registers.fields.set(field, { op, value });
  }
}

export interface MaterializedEntity {
  readonly entity: string;
  readonly entityId: string;
  /** True when no write is newer than the entity's tombstone. */
  readonly deleted: boolean;
  /** The visible fields, by name in code-unit order; empty when deleted. */
  readonly fields: Readonly<Record<string, JsonValue>>;
  /** The winning delete, kept so later writes can be judged against it. */
  readonly tombstone: Version | null;
}

/** Every entity any op touched, keyed by `entityKey`, in key order. */
export type MaterializedState = ReadonlyMap<string, MaterializedEntity>;

function sortedByKey<V>(entries: Iterable<[string, V]>): Array<[string, V]> {
  return [...entries].sort(([a], [b]) => compareStrings(a, b));
}

/** The state the folded ops describe; independent of the order they were applied in. */
export function viewState<T extends LwwOp>(state: LwwState<T>): MaterializedState {
  const view = new Map<string, MaterializedEntity>();
  for (const [key, registers] of sortedByKey(state)) {
    const { tombstone, lastWrite } = registers;
    const visible = sortedByKey(registers.fields).filter(([, field]) =>
      isNewer(field.op, tombstone),
    );
    view.set(key, {
      entity: registers.entity,
      entityId: registers.entityId,
      deleted: lastWrite === null || !isNewer(lastWrite, tombstone),
      fields: Object.fromEntries(visible.map(([name, field]) => [name, field.value])),
      tombstone:
        tombstone === null
          ? null
          : { lamportTs: tombstone.lamportTs, deviceId: tombstone.deviceId.toLowerCase() },
    });
  }
  return view;
}

/** Folds ops, in any order and with any duplicates, into the state they describe. */
export function materialize(ops: Iterable<LwwOp>): MaterializedState {
  const state = createLwwState();
  for (const op of ops) applyOp(state, op);
  return viewState(state);
}

/**
 * The ops compaction must keep: each entity's winning tombstone, its newest write when that
 * outlives the tombstone, and each field's winning write when it outlives the tombstone.
 * Everything else wins nothing now and cannot win later (later ops only raise the maxima),
 * so `materialize([...compactionSurvivors(prefix), ...rest])` equals
 * `materialize([...prefix, ...rest])` for any later ops `rest`. Returned in input order.
 */
export function compactionSurvivors<T extends LwwOp>(ops: readonly T[]): T[] {
  const state = createLwwState<T>();
  for (const op of ops) applyOp(state, op);
  const keep = new Set<T>();
  for (const { tombstone, lastWrite, fields } of state.values()) {
    if (tombstone !== null) keep.add(tombstone);
    if (lastWrite !== null && isNewer(lastWrite, tombstone)) keep.add(lastWrite);
    for (const field of fields.values()) {
      if (isNewer(field.op, tombstone)) keep.add(field.op);
    }
  }
  const emitted = new Set<T>();
  return ops.filter((op) => {
    if (!keep.has(op) || emitted.has(op)) return false;
    emitted.add(op);
    return true;
  });
}
