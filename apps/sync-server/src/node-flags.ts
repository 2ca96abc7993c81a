/**
 * The V8 flags and the allocator settings the sync server runs with in production
 * (docs/adr/0031-idle-socket-rss.md, docs/adr/0044-idle-socket-rss-outside-the-v8-heap.md).
 * Every way the server is started passes them: `npm start` of this package (`npm run
 * serve:sync`), spawnSyncServer (the tests, the root `npm start`), the chaos harness and the
 * bench's server child; the server logs a warning when it was started without them.
 *
 * `--heap-growing-percent=50`: after each full collection V8 lets the old generation grow by
 * 50% of what survived before it collects again, instead of a factor it picks itself (up to 4x
 * when collections are fast, as they are while thousands of sockets connect at once). Garbage
 * promoted during such a connection storm then stays within half the live heap, and so do the
 * heap pages that V8 keeps committed, half empty, once the storm is over: that slack, not what
 * a socket holds, was most of an idle socket's RSS. In steady operation little is promoted and
 * full collections stay rare.
 */
export const SYNC_SERVER_NODE_FLAGS: readonly string[] = ["--heap-growing-percent=50"];

/**
 * Settings of glibc's malloc, read from the environment when the process starts (so they must
 * be set by whatever starts it; setting them in process.env later does nothing). Node's own
 * threads (V8's garbage-collection and compiler workers, libuv's pool) each get a malloc arena
 * of their own, up to 8 per core, and every arena keeps what it once held: during a burst of
 * connecting devices they grew by 20 to 50 MiB that the idle server never gave back, at a
 * different moment in each run.
 *
 * - `MALLOC_ARENA_MAX=2`: those threads share two arenas instead of up to 16 on two cores.
 * - `MALLOC_TRIM_THRESHOLD_=131072`: glibc's default trim threshold (128 KiB), set explicitly,
 *   which turns off glibc's raising of it (up to 64 MiB, after the first large block is freed):
 *   free memory at the top of an arena above 128 KiB goes back to the system.
 *
 * musl, macOS and Windows ignore both.
 */
export const SYNC_SERVER_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_TRIM_THRESHOLD_: "131072",
};

/** The production flags this process was started without (empty: all present). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return SYNC_SERVER_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}

/** The allocator settings this process was started without, or with another value. */
export function missingServerEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(SYNC_SERVER_ENV)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value}`);
}
