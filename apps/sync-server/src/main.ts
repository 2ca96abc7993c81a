import { createInProcessBus, createRedisBus, DAY_MS } from "@chorus/api";
import { createPrisma, redactDatabaseUrl } from "@chorus/db";
import { createTokenVerifier } from "./auth.js";
import { scheduleCompaction } from "./compaction-schedule.js";
import { loadEnv, SettingsError } from "./env.js";
import { createLogger } from "./logger.js";
import { createSyncServer } from "./server.js";
import type { ListeningMessage } from "./testing.js";

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger(env.LOG_LEVEL);
  const prisma = createPrisma(env.DATABASE_URL);
  try {
    await prisma.$queryRaw`SELECT 1`;
  } catch (error) {
    await prisma.$disconnect();
    throw new SettingsError(
      `cannot reach the database at ${redactDatabaseUrl(env.DATABASE_URL)}: ${(error as Error).message}`,
    );
  }
  const verifier = await createTokenVerifier(env);
  const bus = env.REDIS_URL
    ? await createRedisBus({
        url: env.REDIS_URL,
        prefix: env.REDIS_PREFIX,
        onError: (error) => logger.error({ err: error }, "redis bus error"),
      }).catch((error: unknown) => {
        throw new SettingsError(`cannot reach Redis at REDIS_URL: ${(error as Error).message}`);
      })
    : createInProcessBus();
  const server = createSyncServer({
    prisma,
    logger,
    verifyToken: (token) => verifier.verify(token),
    bus,
    ackFlushIntervalMs: env.ACK_FLUSH_INTERVAL_MS,
    allowedOrigins: env.WEB_ORIGINS,
    databaseUrl: env.DATABASE_URL,
    compaction: {
      staleWindowMs: env.COMPACTION_STALE_DAYS * DAY_MS,
      batchSize: env.COMPACTION_BATCH_SIZE,
    },
  });

  let port: number;
  try {
    const address = await server.listen(env.SYNC_PORT, env.SYNC_HOST);
    logger.info(
      { port: address.port, host: env.SYNC_HOST, database: redactDatabaseUrl(env.DATABASE_URL) },
      `sync server listening on http://${env.SYNC_HOST}:${address.port}`,
    );
    port = address.port;
  } catch (error) {
    await prisma.$disconnect();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new SettingsError(`SYNC_PORT ${env.SYNC_PORT} on ${env.SYNC_HOST} is already in use`);
    }
    throw error;
  }

  const stopSchedule =
    env.COMPACTION_TIME === "off"
      ? () => {}
      : scheduleCompaction(server.services, env.COMPACTION_TIME, logger);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown grace period exceeded; exiting");
      process.exit(1);
    }, env.SHUTDOWN_GRACE_MS);
    force.unref();
    stopSchedule();
    await server.close();
    await bus.close();
    await prisma.$disconnect();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // A parent that started us over IPC and went away (crashed, killed) takes us with it.
  process.on("disconnect", () => void shutdown("parent gone"));
  // Started with an IPC channel (tests, `npm start`): tell the parent the port once we listen
  // and handle signals, so port 0 needs no log parsing. See src/testing.ts.
  process.send?.({ type: "listening", port } satisfies ListeningMessage);
}

main().catch((error: unknown) => {
  // One clear line for a setting a person can fix; the stack for anything else.
  if (error instanceof SettingsError) console.error(`chorus sync-server: ${error.message}`);
  else console.error("chorus sync-server failed to start:", error);
  process.exit(1);
});
