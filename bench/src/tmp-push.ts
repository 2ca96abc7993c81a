import { exportPublicJwks, generateSigningKey } from "@chorus/auth";
import pg from "pg";
import { profileChildrenInto, startChild } from "./children.js";
import { CHILD_SYNC_SERVER } from "./context.js";
import { createBenchDatabase } from "./database.js";
import { loadEnv } from "./env.js";
import { type BenchDevice, nextOps, seedDevices } from "./fixtures.js";
import { createPushClient } from "./http-push.js";
import { createProgress } from "./progress.js";
import { closedLoop } from "./sections/push-throughput.js";

const env = loadEnv();
if (env.BENCH_CPU_PROFILE_DIR) profileChildrenInto(env.BENCH_CPU_PROFILE_DIR);
const db = await createBenchDatabase(env);
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
const key = await generateSigningKey();
const devices = (await seedDevices(pool, key, 8, 1)).map((g) => g[0] as BenchDevice);
const server = await startChild("sync-server", CHILD_SYNC_SERVER, { databaseUrl: db.url, jwks: await exportPublicJwks([key]) });
const client = createPushClient(server.port, 8);
const batch = Number(process.env.B ?? 10);
for (let r = 0; r < 4; r++) {
  const res = await closedLoop(devices, batch, async (d) => { await client.push(d.token, nextOps(d, batch)); }, createProgress("x"), "http", server);
  console.log(`b${batch}: ${Math.round(res.ops / res.elapsedMs * 1000)} ops/s, server ${res.cpuMsPerPush.server.toFixed(2)} ms CPU/push, client ${res.cpuMsPerPush.bench.toFixed(2)}`);
}
client.close();
await server.stop();
await pool.end();
await db.drop();
