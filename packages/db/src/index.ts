export {
  createPrisma,
  Prisma,
  PrismaClient,
  poolOf,
  queryPrepared,
  queryPreparedFirstRow,
  type TextParameter,
} from "./client.js";
export {
  DatabaseUrl,
  parseDatabaseUrl,
  redactDatabaseUrl,
  withDatabase,
} from "./database-url.js";
export * from "./generated/prisma/enums.js";
export { USER_LOCK_STATEMENT } from "./locks.js";
export { DEVICE_SUMMARY_SELECT } from "./selects.js";
export { RedisSettings } from "./shared-settings.js";
