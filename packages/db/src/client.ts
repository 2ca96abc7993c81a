import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";

export { Prisma } from "./generated/prisma/client.js";
export { PrismaClient };

export interface CreatePrismaOptions {
  /** Pool size for this process; the push hot path and subscriptions share it. */
  max?: number;
}

/**
 * How often Postgres checks, while it runs one of our statements, that this process is still
 * there. A push is one statement (chorus_push_ops) that may wait on the user's lock; without
 * the check, a statement whose server process died would still commit once the lock came
 * free, instead of rolling back (Postgres otherwise notices a lost client only when it answers).
 */
export const CLIENT_CONNECTION_CHECK_MS = 1_000;

const pools = new WeakMap<PrismaClient, pg.Pool>();

/** A Prisma 7 client on node-postgres through the driver adapter (no native engine). */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  // The pool is made here and handed to the adapter (which ends it on $disconnect), so that
  // the push statement can run on it directly (see poolOf).
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    options: `-c client_connection_check_interval=${CLIENT_CONNECTION_CHECK_MS}`,
  });
  // The adapter listens for errors of idle connections once Prisma connects; until then (a
  // push may come first) a connection dropped by the server must not crash the process.
  pool.on("error", () => {});
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // "minimal": no stack capture on every query to point at the caller in an error message
  // (a tenth of Prisma's own CPU per push); our errors are logged with their stacks anyway.
  const prisma = new PrismaClient({ adapter, errorFormat: "minimal" });
  pools.set(prisma, pool);
  return prisma;
}

/**
 * The node-postgres pool under a client made by createPrisma (null for any other client): the
 * same connections, with the same settings, that Prisma's queries use. For the few hot
 * statements run by queryPrepared; everything else goes through Prisma.
 */
export function poolOf(prisma: PrismaClient): pg.Pool | null {
  const pool = pools.get(prisma);
  // After $disconnect the pool is ended; Prisma would connect afresh, so its queries go there.
  return pool && !pool.ending ? pool : null;
}

/**
 * One statement, prepared by `name` on the client's own pool (poolOf): Postgres parses and
 * plans it once per connection, and Prisma's per-query work, as much CPU on the push path as
 * the rest of the statement's client side, is skipped (ADRs 0030, 0033, 0035). A client
 * without such a pool runs the same text and parameters through Prisma (`types` applies only
 * on the pool). For the push and the pull page; everything else goes through Prisma.
 */
export async function queryPrepared<R extends pg.QueryResultRow>(
  prisma: PrismaClient,
  query: { name: string; text: string; values: unknown[]; types?: pg.CustomTypesConfig },
): Promise<R[]> {
  const pool = poolOf(prisma);
  if (pool) return (await pool.query<R>(query)).rows;
  return prisma.$queryRawUnsafe<R[]>(query.text, ...query.values);
}
