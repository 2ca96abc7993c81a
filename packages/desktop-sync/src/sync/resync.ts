import { MAX_PULL_LIMIT, type PullResult, type SyncOp } from "@chorus/protocol";
import type { ResyncProgress } from "../contract.js";
import { type OpCipher, openRemote } from "../engine/encryption.js";
import type { LibraryState } from "../library-state.js";
import { callBudget, callServer } from "./call-server.js";

export interface RebuildDeps {
  library: LibraryState;
  pull(input: { since: number; limit: number; fullResync: boolean }): Promise<PullResult>;
  /** The server refused the token: drop it so the next page asks with a fresh one. */
  tokenRejected?(): void;
  onProgress(progress: ResyncProgress): void;
  pageSize?: number;
  /** Opens sealed values before they are folded (an encrypted account). */
  cipher?: OpCipher;
  /** Waits out a rate_limited answer before asking for the same page again (tests shorten). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Runs first in the transaction that replaces the library (a discarded op leaves the queue
   * there, so it goes only if the library is rebuilt without it).
   */
  inRebuild?: () => void;
}

/** Restarts from 0 at most this often when compaction moves the watermark mid-pull. */
const MAX_RESTARTS = 3;
/** Rate-limited answers in a row before the rebuild gives up (and is retried later). */
const MAX_RATE_LIMITED_IN_A_ROW = 20;
const PROGRESS_EVERY = 500;
/** Ops read back from the staging table at a time while folding: bounds memory. */
const FOLD_CHUNK = 500;

/*
 * The pulled pages wait in a TEMP table of the library's own connection: on disk (SQLite's
 * temporary storage), not in this process's memory, so an account of any size can be rebuilt;
 * invisible to other connections; and gone with the connection if the process dies mid-pull
 * (a new rebuild starts from 0 anyway).
 */
const STAGING = "chorus_resync_staging";

/**
 * Rebuilds the library from a full pull (since 0, paged): streams every page into a staging
 * table first (the local library stays usable meanwhile, memory stays bounded by one page),
 * then in ONE transaction forgets the registers and rows, folds the staged ops in id order in
 * chunks, folds the still-pending local ops on top (they were never accepted by the server, so
 * they stay queued) and sets the cursor to the last pulled id. A failure before that
 * transaction leaves the local state as it was. There is no page cap: a large account takes
 * as many pages as it has ops.
 */
export async function rebuildFromServer(
  deps: RebuildDeps,
): Promise<{ ops: number; cursor: number }> {
  const { library } = deps;
  const { db } = library;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const limit = Math.min(deps.pageSize ?? MAX_PULL_LIMIT, MAX_PULL_LIMIT);
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (id INTEGER PRIMARY KEY, op TEXT NOT NULL)`);
  const stage = db.prepare(`INSERT OR REPLACE INTO ${STAGING} (id, op) VALUES (?, ?)`);
  const stagePage = db.transaction((ops: SyncOp[]) => {
    for (const op of ops) stage.run(op.id, JSON.stringify(op));
  });
  const reset = () => db.exec(`DELETE FROM ${STAGING}`);

  try {
    reset();
    let pulled = 0;
    let since = 0;
    // fullResync: paging on from 0, this reader holds every op that survived compaction below
    // its position, so the server does not refuse pages below the watermark. Over the
    // device's pull budget, the same page is asked again once it refills.
    const ask = (from: number) =>
      callServer(
        () => deps.pull({ since: from, limit, fullResync: true }),
        { tokenRejected: () => deps.tokenRejected?.(), waitOutRateLimits: true, sleep },
        callBudget({ refreshes: 1, rateLimitWaits: MAX_RATE_LIMITED_IN_A_ROW }),
      );
    let next = ask(since);
    for (let restarts = 0; ; ) {
      const asked = await next;
      if (!asked.ok) {
        // Compaction raised the watermark past our page: start again from 0.
        if (asked.verdict === "resync" && restarts < MAX_RESTARTS) {
          restarts += 1;
          reset();
          pulled = 0;
          since = 0;
          next = ask(since);
          continue;
        }
        throw asked.error;
      }
      const page = asked.value;
      // The next page is asked for before this one is staged: the request (the server's
      // read, the wire) runs while this process writes the page to the staging table. At most
      // one request is in flight; one that is no longer awaited cannot reject unhandled.
      if (page.hasMore) {
        next = ask(page.nextSince);
        next.catch(() => {});
      }
      stagePage(page.ops);
      pulled += page.ops.length;
      since = page.nextSince;
      deps.onProgress({ phase: "pulling", done: pulled, total: null });
      if (!page.hasMore) break;
    }

    const total = pulled;
    deps.onProgress({ phase: "applying", done: 0, total });
    const chunk = db.prepare<[number, number], { id: number; op: string }>(
      `SELECT id, op FROM ${STAGING} WHERE id > ? ORDER BY id LIMIT ?`,
    );
    db.transaction(() => {
      deps.inRebuild?.();
      library.clearLibrary();
      // Rows are written once at the end, parents first (LibraryState.batch).
      library.batch(() => {
        let done = 0;
        for (let after = 0; ; ) {
          const rows = chunk.all(after, FOLD_CHUNK);
          if (rows.length === 0) break;
          // The clock is raised once per chunk to the chunk's highest stamp (the same end
          // state as once per op, inside the same transaction, without a statement per op).
          let highest = 0;
          for (const row of rows) {
            const op = JSON.parse(row.op) as SyncOp;
            if (op.lamportTs > highest) highest = op.lamportTs;
            // A value that does not open is recorded and skipped; a key this device lacks
            // (KeyNeededError) rolls the whole rebuild back, leaving the library as it was.
            const opened = deps.cipher ? openRemote(deps.cipher, op) : op;
            if (opened) library.fold(opened);
            done += 1;
            if (done % PROGRESS_EVERY === 0) deps.onProgress({ phase: "applying", done, total });
          }
          library.clock.observe(highest);
          after = rows.at(-1)?.id ?? after;
        }
        library.refoldPending();
      });
      library.setCursor(since);
    }).immediate();
    deps.onProgress({ phase: "done", done: total, total });
    return { ops: total, cursor: since };
  } finally {
    reset();
  }
}
