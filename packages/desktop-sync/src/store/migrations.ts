/**
 * The engine's own schema history. The server's Prisma migrations never touch a device
 * file, and this list never touches the server.
 *
 * Rules: append only; never edit a step that has shipped; versions are 1, 2, 3, ... and the
 * runner stores the last applied one in PRAGMA user_version.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const initial = `
CREATE TABLE sync_meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;

-- The clock and cursor exist from the start so that every reader can rely on them.
-- device_id is written when the profile is created; server_url when it is bound.
INSERT INTO sync_meta (key, value) VALUES ('lamport', '0'), ('cursor', '0');

-- Local ops not yet accepted by the server. AUTOINCREMENT: ids are never reused, so the
-- id order is the FIFO order even after the newest rows were deleted.
CREATE TABLE sync_pending_op (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  operation_id    TEXT    NOT NULL UNIQUE,
  lamport_ts      INTEGER NOT NULL UNIQUE CHECK (lamport_ts > 0),
  entity          TEXT    NOT NULL,
  entity_id       TEXT    NOT NULL,
  field           TEXT,
  op              TEXT    NOT NULL CHECK (op IN ('set', 'delete', 'insert', 'noop')),
  value           TEXT    CHECK (value IS NULL OR json_valid(value)),
  created_at      INTEGER NOT NULL,
  attempt_count   INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  last_error      TEXT
) STRICT;

-- The music library. Ids are UUIDs made on the device that created the row.
-- There are deliberately no foreign keys between these tables: remote ops from several
-- devices arrive in any order (an entry can arrive before its track, a playlist can be
-- deleted on one device while another adds to it), and every order must converge to the
-- same state. Readers join and hide entries whose playlist or track is missing.
CREATE TABLE playlists (
  id         TEXT PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tracks (
  id          TEXT PRIMARY KEY NOT NULL,
  title       TEXT NOT NULL,
  artist      TEXT,
  album       TEXT,
  duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

-- position is a fractional index (a string that sorts between its neighbours), so an
-- insert or a move writes one row and concurrent moves never renumber each other.
-- id breaks ties when two devices pick the same position concurrently.
CREATE TABLE playlist_entries (
  id          TEXT PRIMARY KEY NOT NULL,
  playlist_id TEXT NOT NULL,
  track_id    TEXT NOT NULL,
  position    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX playlist_entries_by_position ON playlist_entries (playlist_id, position, id);
CREATE INDEX playlist_entries_by_track ON playlist_entries (track_id);
`;

/*
 * Per-field last-writer-wins registers and entity tombstones (docs/design.md#conflict-rule). The domain tables
 * above are a view of these: every apply folds the op into the registers with
 * @chorus/protocol's rule and rewrites the one domain row it touched, so any order of the
 * same ops (and any duplicates) leaves the same rows.
 */
const lwwRegisters = `
CREATE TABLE lww_entity (
  entity           TEXT NOT NULL,
  entity_id        TEXT NOT NULL,
  -- The winning delete, if any.
  tombstone_ts     INTEGER,
  tombstone_device TEXT,
  tombstone_op     TEXT,
  -- The newest write of any field: decides whether the entity outlives its tombstone.
  write_ts         INTEGER,
  write_device     TEXT,
  write_op         TEXT,
  PRIMARY KEY (entity, entity_id)
) STRICT;

CREATE TABLE lww_field (
  entity       TEXT    NOT NULL,
  entity_id    TEXT    NOT NULL,
  field        TEXT    NOT NULL,
  lamport_ts   INTEGER NOT NULL,
  device_id    TEXT    NOT NULL,
  operation_id TEXT    NOT NULL,
  value        TEXT    NOT NULL CHECK (json_valid(value)),
  PRIMARY KEY (entity, entity_id, field)
) STRICT;

-- A new profile syncs as soon as it is bound; Local keeps every edit on this computer.
INSERT OR IGNORE INTO sync_meta (key, value) VALUES ('mode', 'hybrid');
`;

/*
 * Ops the server refused for good (a rule of the protocol they break; resending cannot help).
 * They leave the queue, so every later edit still flows, and stay here with the reason, for
 * diagnostics: the edit is kept on this computer but never reaches other devices. No CHECKs:
 * what lands here is by definition something the rules refused.
 */
const quarantine = `
CREATE TABLE sync_quarantined_op (
  id             INTEGER PRIMARY KEY NOT NULL,
  operation_id   TEXT    NOT NULL,
  lamport_ts     INTEGER NOT NULL,
  entity         TEXT    NOT NULL,
  entity_id      TEXT    NOT NULL,
  field          TEXT,
  op             TEXT    NOT NULL,
  value          TEXT,
  created_at     INTEGER NOT NULL,
  quarantined_at INTEGER NOT NULL,
  reason         TEXT    NOT NULL
) STRICT;
`;

/*
 * The sync SDK's own state (src/sdk/): which app's declaration is installed on this file
 * (its fingerprint decides whether the capture triggers are reinstalled, `migrations` counts
 * the app's own schema steps applied), and the rows parked because they cannot exist yet (a
 * child whose parent has not arrived, or was deleted elsewhere): their registers hold them,
 * and they are written when the parent's row appears.
 */
const sdk = `
CREATE TABLE sdk_app (
  app          TEXT    PRIMARY KEY NOT NULL,
  fingerprint  TEXT    NOT NULL,
  migrations   INTEGER NOT NULL,
  installed_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sdk_parked (
  entity        TEXT    NOT NULL,
  entity_id     TEXT    NOT NULL,
  parent_entity TEXT,
  parent_id     TEXT,
  reason        TEXT    NOT NULL,
  parked_at     INTEGER NOT NULL,
  PRIMARY KEY (entity, entity_id)
) STRICT;

CREATE INDEX sdk_parked_by_parent ON sdk_parked (parent_entity, parent_id);
`;

/*
 * Values that lost a conflict this device took part in (src/lww/overwritten.ts): a remote op
 * replaced a value this device had written ('lost'), or a remote value lost to this device's
 * ('won'). Both values, both writers and their stamps, when it was noticed; bounded (the
 * newest OVERWRITTEN_KEEP rows per profile file). `dismissed_at` is set when the user has
 * seen the notice. Known devices: the account's device names, as the server last listed them,
 * so a record can say "overwritten by studio" instead of a UUID.
 */
const overwritten = `
CREATE TABLE sync_overwritten (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  entity       TEXT    NOT NULL,
  entity_id    TEXT    NOT NULL,
  field        TEXT    NOT NULL,
  outcome      TEXT    NOT NULL CHECK (outcome IN ('lost', 'won')),
  lost_value   TEXT    NOT NULL CHECK (json_valid(lost_value)),
  lost_device  TEXT    NOT NULL,
  lost_ts      INTEGER NOT NULL,
  won_value    TEXT    NOT NULL CHECK (json_valid(won_value)),
  won_device   TEXT    NOT NULL,
  won_ts       INTEGER NOT NULL,
  server_op_id INTEGER NOT NULL,
  recorded_at  INTEGER NOT NULL,
  dismissed_at INTEGER
) STRICT;

CREATE INDEX sync_overwritten_by_item ON sync_overwritten (entity, entity_id, field);

CREATE TABLE sync_known_device (
  device_id  TEXT    PRIMARY KEY NOT NULL,
  name       TEXT    NOT NULL,
  listed_at  INTEGER NOT NULL
) STRICT;
`;

/*
 * Ops from the server whose sealed value did not open on this device (altered, moved to
 * another field or op, plaintext in an account that seals every value, or sealed under an
 * older key epoch). They are never applied: the cursor moves past them so the rest flows, and
 * they stay here (without their value) for diagnostics. Keyed by the op's id in the log.
 */
const unreadable = `
CREATE TABLE sync_unreadable_op (
  id           INTEGER PRIMARY KEY NOT NULL,
  operation_id TEXT    NOT NULL,
  entity       TEXT    NOT NULL,
  entity_id    TEXT    NOT NULL,
  field        TEXT,
  code         TEXT    NOT NULL,
  reason       TEXT    NOT NULL,
  refused_at   INTEGER NOT NULL
) STRICT;
`;

/*
 * Blobs made on this device (files a blob column references: a playlist's cover), until the
 * server holds them. `size` is what is uploaded (the sealed size when `sealed`: the file was
 * sealed for an encrypted account and its sealed bytes wait in blobs/outgoing/). `state`:
 * pending (to upload), uploaded, refused (for good: too large, over the quota, or made in
 * clear before the account encrypted; `last_error` says why). Blobs received from other
 * devices need no row: a reference whose file is missing is fetched.
 */
const blobs = `
CREATE TABLE sync_blob (
  sha256      TEXT    PRIMARY KEY NOT NULL,
  size        INTEGER NOT NULL,
  sealed      INTEGER NOT NULL CHECK (sealed IN (0, 1)),
  state       TEXT    NOT NULL CHECK (state IN ('pending', 'uploaded', 'refused')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  added_at    INTEGER NOT NULL,
  uploaded_at INTEGER
) STRICT;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "sync tables and music library", sql: initial },
  { version: 2, name: "lww registers and tombstones", sql: lwwRegisters },
  { version: 3, name: "quarantined ops", sql: quarantine },
  { version: 4, name: "sync sdk: installed app and parked rows", sql: sdk },
  { version: 5, name: "overwritten values and known devices", sql: overwritten },
  { version: 6, name: "unreadable remote ops", sql: unreadable },
  { version: 7, name: "blobs made on this device", sql: blobs },
];
