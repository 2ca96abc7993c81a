export { createPrisma, Prisma, PrismaClient } from "./client.js";
export { parseDatabaseUrl, redactDatabaseUrl, withDatabase } from "./database-url.js";
export * from "./generated/prisma/enums.js";
