import type { CryptoError } from "@chorus/crypto";
import { MAX_PULL_LIMIT, type PullResult, type SyncOp } from "@chorus/protocol";
import type { ResyncProgress } from "../contract.js";
import { type OpCipher, openRemote } from "../engine/encryption.js";
import type { LibraryState } from "../library-state.js";
import { RebuildRegisters } from "../lww/rebuild.js";
import { materializerOf } from "../sdk/install.js";
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

/**
 * Rebuilds the library from a full pull (since 0, paged). Each page is folded as it arrives
 * into the rebuild's own registers (src/lww/rebuild.ts: TEMP tables of the library's
 * connection, one conditional write per register the page settles, not a load and a save of
 * the entity per op), while the next page is already asked for; the local library stays
 * usable meanwhile and memory stays bounded by one page. Then ONE transaction forgets the
 * library's registers and rows, installs the rebuilt registers, writes the app's rows from
 * them (parents first), folds the still-pending local ops on top (they were never accepted by
 * the server, so they stay queued) and sets the cursor to the last pulled id. The result is
 * the one folding every pulled op in id order would leave (ADR 0028). A failure before that
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
  const materializer = materializerOf(db);
  const registers = new RebuildRegisters(db, {
    ignoresDeletes: (entity) => materializer?.ignoresDeletes(entity) ?? false,
  });
  // Values that do not open are recorded in the rebuild's transaction, with the rest of it.
  const refused: Array<[SyncOp, CryptoError]> = [];
  const cipher: OpCipher | undefined = deps.cipher && {
    seal: (op) => deps.cipher?.seal(op) ?? op,
    open: (op) => deps.cipher?.open(op) ?? op,
    refuse: (op, error) => refused.push([op, error]),
  };

  try {
    let pulled = 0;
    let since = 0;
    let highest = 0;
    const restart = () => {
      registers.reset();
      refused.length = 0;
      pulled = 0;
      since = 0;
      highest = 0;
    };
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
          restart();
          next = ask(since);
          continue;
        }
        throw asked.error;
      }
      const page = asked.value;
      // The next page is asked for before this one is folded: the request (the server's
      // read, the wire) runs while this process folds the page. At most one request is in
      // flight; one that is no longer awaited cannot reject unhandled.
      if (page.hasMore) {
        next = ask(page.nextSince);
        next.catch(() => {});
        // Let the request reach the socket before this page is settled: the client writes it
        // only after a few promise steps, which would otherwise wait for the synchronous
        // settling below, and the server would start on the next page only when it is done.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const opened: SyncOp[] = [];
      // The account's key state is read once per page, not once per op.
      const pageCipher: OpCipher | undefined = cipher && {
        ...cipher,
        open: deps.cipher?.batchOpener?.() ?? cipher.open,
      };
      for (const op of page.ops) {
        if (op.lamportTs > highest) highest = op.lamportTs;
        // A value that does not open is recorded (in the rebuild's transaction) and skipped;
        // a key this device lacks (KeyNeededError) fails the rebuild, leaving the library as
        // it was.
        const open = pageCipher ? openRemote(pageCipher, op) : op;
        if (open) opened.push(open);
      }
      registers.add(opened);
      pulled += page.ops.length;
      since = page.nextSince;
      deps.onProgress({ phase: "pulling", done: pulled, total: null });
      if (!page.hasMore) break;
    }

    const total = pulled;
    deps.onProgress({ phase: "applying", done: 0, total });
    db.transaction(() => {
      deps.inRebuild?.();
      for (const [op, error] of refused) deps.cipher?.refuse(op, error);
      library.clearLibrary();
      registers.install();
      const entities = library.db
        .prepare("SELECT count(*) FROM lww_entity")
        .pluck()
        .get() as number;
      // The clock is raised once to the highest pulled stamp (the same end state as once per
      // op, inside the same transaction).
      library.clock.observe(highest);
      // The pending local ops go into the registers first, so every row is written once,
      // from its final view (as one batch over the pulled and the pending ops would).
      library.collectViews(() => library.refoldPending());
      if (materializer) {
        registers.materialize(materializer, (written) => {
          const done = Math.floor((total * written) / Math.max(entities, 1));
          deps.onProgress({ phase: "applying", done: Math.min(done, total), total });
        });
      }
      library.setCursor(since);
    }).immediate();
    deps.onProgress({ phase: "done", done: total, total });
    return { ops: total, cursor: since };
  } finally {
    registers.drop();
  }
}
