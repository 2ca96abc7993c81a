import { createPrisma, type PrismaClient } from "@chorus/db";
import { env } from "@/env";

// One pool per server process; `next dev` re-evaluates modules on change, so keep it global.
const holder = globalThis as typeof globalThis & { chorusPrisma?: PrismaClient };

export function prisma(): PrismaClient {
  holder.chorusPrisma ??= createPrisma(env().DATABASE_URL, { max: 5 });
  return holder.chorusPrisma;
}
