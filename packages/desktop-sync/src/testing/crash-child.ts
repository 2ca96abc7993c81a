import { writeSync } from "node:fs";
import { memoryTokenStore } from "../auth/token-store.js";
import { DeviceEngine } from "../engine.js";

/*
 * Child process of the crash test: makes playlists; on the Nth it stops INSIDE the
 * transaction, right after the domain write and before the queue insert, tells the parent,
 * and waits there to be killed.
 */
const [dataDir, profile, hangOn] = process.argv.slice(2);
if (!dataDir || !profile || !hangOn) throw new Error("usage: crash-child <dataDir> <profile> <n>");
let writes = 0;
const engine = DeviceEngine.open({
  dataDir,
  profile,
  tokenStore: memoryTokenStore(),
  hooks: {
    afterDomainWrite() {
      writes += 1;
      if (writes < Number(hangOn)) return;
      writeSync(1, "inside the transaction\n");
      // Block the thread inside the open transaction until SIGKILL arrives (bounded: 30 s).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
    },
  },
});
for (let i = 1; i <= Number(hangOn); i++) await engine.createPlaylist(`Playlist ${i}`);
