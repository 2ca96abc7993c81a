import type { PrismaClient } from "@chorus/db";

/** What every procedure sees. Built per request (HTTP) or per connection (WebSocket). */
export interface Context {
  prisma: PrismaClient;
}
