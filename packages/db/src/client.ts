import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export { Prisma } from "./generated/prisma/client.js";
export { PrismaClient };

export interface CreatePrismaOptions {
  /** Pool size for this process; the push hot path and subscriptions share it. */
  max?: number;
}

/** A Prisma 7 client on node-postgres through the driver adapter (no native engine). */
export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
