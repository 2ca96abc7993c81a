/**
 * The V8 flags the sync server runs with in production (docs/adr/0031-idle-socket-rss.md). Every
 * way the server is started passes them: `npm start` of this package (`npm run serve:sync`),
 * spawnSyncServer (the tests, the root `npm start`), the chaos harness and the bench's server
 * child; the server logs a warning when it was started without them.
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

/** The production flags this process was started without (empty: all present). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return SYNC_SERVER_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
