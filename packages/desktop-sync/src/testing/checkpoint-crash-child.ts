import { writeSync } from "node:fs";
import { memoryTokenStore } from "../auth/token-store.js";
import { DeviceEngine } from "../engine.js";

/*
 * Child process of the checkpoint crash test: renames one playlist over and over with SQLite's
 * automatic checkpoint at every commit (`wal_autocheckpoint = 1`: each COMMIT copies the WAL
 * back into the database file and syncs it, and the next write restarts the WAL), and prints
 * "committed <k>" once rename k has returned; the parent kills it at a moment of its choosing,
 * so often in the middle of a checkpoint or of a WAL restart.
 */
const [dataDir, profile] = process.argv.slice(2);
if (!dataDir || !profile) throw new Error("usage: checkpoint-crash-child <dataDir> <profile>");
const engine = DeviceEngine.open({ dataDir, profile, tokenStore: memoryTokenStore() });
engine.profile.db.pragma("wal_autocheckpoint = 1");
const { id } = await engine.createPlaylist("renamed");
writeSync(1, `playlist ${id}\n`);
for (let k = 0; ; k++) {
  await engine.renamePlaylist(id, `rename ${k}`);
  writeSync(1, `committed ${k}\n`);
}
