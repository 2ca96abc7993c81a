import { PrismaPg } from "@prisma/adapter-pg";
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

/** A Prisma 7 client on node-postgres through the driver adapter (no native engine). */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    options: `-c client_connection_check_interval=${CLIENT_CONNECTION_CHECK_MS}`,
  });
  // "minimal": no stack capture on every query to point at the caller in an error message
  // (a tenth of Prisma's own CPU per push); our errors are logged with their stacks anyway.
  return new PrismaClient({ adapter, errorFormat: "minimal" });
}
