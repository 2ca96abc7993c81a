import {
  connectLimitStore,
  createInProcessBus,
  createRedisBus,
  DAY_MS,
  DiskBlobStore,
  runBlobGc,
} from "@chorus/api";
import { createPrisma, redactDatabaseUrl } from "@chorus/db";
import { createTokenVerifier } from "./auth.js";
import { scheduleCompaction } from "./compaction-schedule.js";
import { loadEnv, SettingsError } from "./env.js";
import { createLogger } from "./logger.js";
import { missingNodeFlags, missingServerEnv } from "./node-flags.js";
import { createSyncServer, reachDatabase } from "./server.js";
import type { ListeningMessage } from "./testing.js";

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger(env.LOG_LEVEL);
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    logger.warn(
      { missing },
      "started without the production V8 flags (npm run serve:sync passes them): idle sockets will cost more memory; see docs/adr/0031-idle-socket-rss.md",
    );
  }
  const missingEnv = missingServerEnv();
  if (missingEnv.length > 0) {
    logger.warn(
      { missing: missingEnv },
      "started without the production allocator settings in its environment (npm run serve:sync sets them): malloc may keep tens of MiB more after a burst of connections; see docs/adr/0044-idle-socket-rss-outside-the-v8-heap.md",
    );
  }
  const prisma = createPrisma(env.DATABASE_URL);
  try {
    await reachDatabase(prisma);
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
  const limitStore = env.REDIS_URL
    ? await connectLimitStore({
        url: env.REDIS_URL,
        prefix: env.REDIS_PREFIX,
        onError: (error) => logger.error({ err: error }, "redis rate-limit store error"),
      })
    : undefined;
  const server = createSyncServer({
    prisma,
    logger,
    verifyToken: (token) => verifier.verify(token),
    bus,
    ackFlushIntervalMs: env.ACK_FLUSH_INTERVAL_MS,
    throughputSampleMs: env.THROUGHPUT_SAMPLE_MS,
    allowedOrigins: env.WEB_ORIGINS,
    rateLimits: env.RATE_LIMITS,
    bounds: {
      pageMaxBytes: env.PULL_PAGE_MAX_BYTES,
      pushesPerUser: env.PUSHES_PER_USER,
      pushQueuePerUser: env.PUSH_QUEUE_PER_USER,
      subscriptionsPerSocket: env.SUBSCRIPTIONS_PER_SOCKET,
    },
    connections: {
      wsAuthTimeoutMs: env.WS_AUTH_TIMEOUT_MS,
      socketsPerDevice: env.SOCKETS_PER_DEVICE,
      headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    },
    ...(limitStore ? { limitStore } : {}),
    blobs: {
      store: new DiskBlobStore(env.BLOB_DIR),
      settings: {
        maxBytes: env.BLOB_MAX_BYTES,
        quotaBytes: env.BLOB_QUOTA_BYTES,
        chunkMaxBytes: env.BLOB_CHUNK_MAX_BYTES,
        gcGraceMs: env.BLOB_GC_GRACE_HOURS * 3_600_000,
        uploadExpiryMs: env.BLOB_UPLOAD_EXPIRY_HOURS * 3_600_000,
      },
    },
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
      : scheduleCompaction(server.services, env.COMPACTION_TIME, logger, async () => {
          // After compaction, which is what removes the references that kept blobs alive.
          const blobs = server.blobs;
          if (!blobs) return;
          const result = await runBlobGc(
            { prisma, store: blobs.store, settings: blobs.settings },
            { trigger: "scheduled" },
          );
          logger.info(result, "scheduled blob garbage collection finished");
        });

  let stopping = false;
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown grace period exceeded; exiting");
      process.exit(1);
    }, env.SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      stopSchedule();
      // Closing the server writes the buffered ACKs before the database goes.
      await server.close();
      await bus.close();
      await limitStore?.close();
      await prisma.$disconnect();
      logger.info("stopped");
    } catch (error) {
      logger.error({ err: error }, "error while shutting down");
      exitCode = 1;
    }
    process.exit(exitCode);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // A fault nothing else caught leaves the process in an unknown state: log it and stop the way
  // a SIGTERM does (ACKs flushed, clients told to reconnect elsewhere), with a failing exit code
  // so the supervisor restarts it.
  const fatal = (kind: string) => (error: unknown) => {
    logger.fatal({ err: error }, `${kind}; shutting down`);
    void shutdown(kind, 1);
  };
  process.on("uncaughtException", fatal("uncaught exception"));
  process.on("unhandledRejection", fatal("unhandled rejection"));
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
