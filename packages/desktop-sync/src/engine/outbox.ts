import type { JsonValue } from "@chorus/protocol";
import type { FieldHistory, FieldVersion, OverwriteSide } from "../contract.js";
import { EngineError } from "../errors.js";
import { listOverwritten } from "../lww/overwritten.js";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * The outbox and a field's history, as the engine answers them (docs/adr/0022): which register
 * an op of this device still decides, and what a field held before (its register plus the
 * overwritten values this device recorded).
 */

/** An op no queue or quarantine holds: the id the user named is unknown (or already gone). */
export function unknownOp(operationId: string): EngineError {
  return new EngineError(
    "not_found",
    `no change waiting or refused on this device has the id ${operationId} (it may have been uploaded or discarded already)`,
    { operationId },
  );
}

/**
 * Whether this op still decides anything on this device: the value of a field, the entity's
 * tombstone, or its newest write (which decides whether the entity outlives a tombstone).
 * An op that decides nothing any more (another write won since) can go without a rebuild.
 */
export function opStillShown(db: SqliteDatabase, operationId: string): boolean {
  return (
    db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM lww_field WHERE operation_id = @id)
             OR EXISTS (SELECT 1 FROM lww_entity WHERE tombstone_op = @id OR write_op = @id)`,
      )
      .pluck()
      .get({ id: operationId }) === 1
  );
}

interface Register {
  value: string;
  device_id: string;
  lamport_ts: number;
}

/**
 * A field's history, newest first: the value it holds now (its register in `library`) and the
 * older values the overwritten records of `profile` kept, each with the device that wrote it,
 * when this device learnt it was replaced and by whom, and how to restore it. Versions are told
 * apart by (device, Lamport stamp): one write appears once however many records name it.
 */
export function fieldHistory(
  profile: SqliteDatabase,
  library: SqliteDatabase,
  self: string,
  target: { entity: string; entityId: string; field: string },
): FieldHistory {
  const me = self.toLowerCase();
  const names = new Map(
    (
      profile.prepare("SELECT device_id, name FROM sync_known_device").all() as Array<{
        device_id: string;
        name: string;
      }>
    ).map((row) => [row.device_id, row.name]),
  );
  const register = library
    .prepare(
      "SELECT value, device_id, lamport_ts FROM lww_field WHERE entity = ? AND entity_id = ? AND field = ?",
    )
    .get(target.entity, target.entityId, target.field) as Register | undefined;
  const records = listOverwritten(profile, self, {
    entity: target.entity,
    entityId: target.entityId,
    field: target.field,
    includeDismissed: true,
    limit: 200,
  });
  const versions = new Map<string, FieldVersion>();
  const keyOf = (side: { deviceId: string; lamportTs: number }) =>
    `${side.deviceId.toLowerCase()}/${side.lamportTs}`;
  const add = (side: OverwriteSide, restore: FieldVersion["restore"]) => {
    const key = keyOf(side);
    const known = versions.get(key);
    if (known) {
      if (!known.restore && restore) versions.set(key, { ...known, restore });
      return;
    }
    versions.set(key, {
      ...side,
      current: false,
      replacedAt: null,
      replacedBy: null,
      restore,
    });
  };
  if (register) {
    add(
      {
        value: JSON.parse(register.value) as JsonValue,
        deviceId: register.device_id,
        deviceName: names.get(register.device_id) ?? null,
        here: register.device_id.toLowerCase() === me,
        lamportTs: register.lamport_ts,
      },
      null,
    );
  }
  // Newest records first: the first record that names a loser says when it was replaced.
  for (const record of records) {
    add(record.won, { recordId: record.id, side: "won" });
    add(record.lost, { recordId: record.id, side: "lost" });
    const lost = versions.get(keyOf(record.lost));
    if (lost && lost.replacedAt === null) {
      versions.set(keyOf(record.lost), {
        ...lost,
        replacedAt: record.at,
        replacedBy: {
          deviceId: record.won.deviceId,
          deviceName: record.won.deviceName,
          here: record.won.here,
        },
      });
    }
  }
  const currentKey = register ? `${register.device_id.toLowerCase()}/${register.lamport_ts}` : null;
  const list = [...versions.entries()]
    .map(([key, version]) =>
      key === currentKey
        ? // The value it holds now is not restored: it is there already.
          { ...version, current: true, replacedAt: null, replacedBy: null, restore: null }
        : version,
    )
    .sort((a, b) => b.lamportTs - a.lamportTs || a.deviceId.localeCompare(b.deviceId));
  return { ...target, versions: list };
}
