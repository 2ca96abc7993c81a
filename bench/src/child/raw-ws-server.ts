import pg from "pg";
import { WebSocketServer } from "ws";
import { wallClockMs } from "../progress.js";
import { childConfig, serveParent } from "./ipc.js";

/**
 * The baseline server: a bare `ws` server, the same library and limits the sync server uses,
 * with no protocol, no auth and no database. `broadcast` sends one message `rate` times a
 * second for `durationMs`, each stamped with the wall clock just before it goes, to a group of
 * `groupSize` sockets (the sockets in connection order, cut into groups; message n goes to
 * group n mod groups) — one group of all sockets when groupSize is not given.
 *
 * With `insert`, each message is first made durable the plainest way, which is what a sync
 * server must at least do: the stamp is taken, one row is INSERTed (autocommit: insert and
 * commit) through raw `pg`, then the message goes to the group. No auth, no tRPC, no lock, no
 * idempotency. The row goes to `bench_baseline_op`, a copy of sync_op's columns, defaults and
 * indexes (its id from sync_op's sequence) without the foreign keys, so the baseline needs no
 * users or devices.
 */
export interface RawWsChildConfig {
  maxPayload: number;
  /** The bench database, for broadcasts with `insert`. */
  databaseUrl?: string;
}

interface BroadcastRequest {
  /** The message, with STAMP standing for the send time and SEQ for the sequence number. */
  template: string;
  rate: number;
  durationMs: number;
  groupSize?: number;
  /** Insert and commit one op row before each message (the insert + commit + send baseline). */
  insert?: boolean;
}

const config = childConfig<RawWsChildConfig>();
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: config.maxPayload });
await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
const address = wss.address();
const port = address !== null && typeof address === "object" ? address.port : 0;
const pool = config.databaseUrl
  ? new pg.Pool({ connectionString: config.databaseUrl, max: 8 })
  : null;
if (pool) {
  await pool.query(
    "CREATE TABLE IF NOT EXISTS bench_baseline_op (LIKE sync_op INCLUDING DEFAULTS INCLUDING INDEXES)",
  );
}

const INSERT_OP = `INSERT INTO bench_baseline_op
  (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
  VALUES ($1::uuid, $2::uuid, gen_random_uuid(), $3, 'track', $4, 'name', 'set', $5::jsonb)
  RETURNING id, created_at`;

/** Unique across broadcasts of one run (the table keeps sync_op's unique keys). */
let nextLamport = Date.now() * 1000;

/** A fixed uuid per group, so each group is "one user" of the baseline. */
const groupUuid = (group: number, device: number) =>
  `00000000-0000-4000-8000-${String(group * 10 + device).padStart(12, "0")}`;

async function broadcast(request: BroadcastRequest): Promise<{ sent: number; sockets: number }> {
  const count = Math.round((request.rate * request.durationMs) / 1000);
  const period = 1000 / request.rate;
  const start = performance.now();
  const sockets = [...wss.clients];
  const size = request.groupSize ?? sockets.length;
  const groups: (typeof sockets)[] = [];
  for (let start = 0; start < sockets.length; start += size) {
    groups.push(sockets.slice(start, start + size));
  }
  let sent = 0;
  const inFlight: Promise<void>[] = [];
  for (let seq = 0; seq < count; seq++) {
    const due = start + seq * period;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const group = seq % groups.length;
    const stamp = wallClockMs().toFixed(3);
    const message = request.template.replace("SEQ", String(seq)).replace("STAMP", stamp);
    const send = () => {
      for (const socket of groups[group] ?? []) socket.send(message);
      sent++;
    };
    if (!request.insert) {
      send();
      continue;
    }
    if (!pool) throw new Error("a broadcast with insert needs databaseUrl");
    // Open loop: the next message does not wait for this one's commit.
    inFlight.push(
      pool
        .query(INSERT_OP, [
          groupUuid(group, 0),
          groupUuid(group, 1),
          nextLamport++,
          `e${seq}`,
          JSON.stringify({ seq, stampedAt: Number(stamp) }),
        ])
        .then(send),
    );
  }
  await Promise.all(inFlight);
  return { sent, sockets: wss.clients.size };
}

serveParent(
  port,
  {
    broadcast: (request) => broadcast(request as unknown as BroadcastRequest),
    sockets: async () => wss.clients.size,
  },
  async () => {
    for (const socket of wss.clients) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await pool?.end();
  },
);
