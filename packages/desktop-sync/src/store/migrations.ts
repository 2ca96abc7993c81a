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

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "sync tables and music library", sql: initial },
  { version: 2, name: "lww registers and tombstones", sql: lwwRegisters },
  { version: 3, name: "quarantined ops", sql: quarantine },
];
