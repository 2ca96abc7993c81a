import { MAX_PULL_LIMIT, type PullResult, type SyncOp } from "@chorus/protocol";
import type { ResyncProgress } from "../contract.js";
import type { LibraryState } from "../library-state.js";
import { classifyFailure } from "./failure.js";

export interface RebuildDeps {
  library: LibraryState;
  pull(input: { since: number; limit: number; fullResync: boolean }): Promise<PullResult>;
  onProgress(progress: ResyncProgress): void;
  pageSize?: number;
}

/** Restarts from 0 at most this often when compaction moves the watermark mid-pull. */
const MAX_RESTARTS = 3;
/** Bound on pages of one pull (a million ops at the largest page size). */
const MAX_PAGES = 1_000;
const PROGRESS_EVERY = 500;

/**
 * Rebuilds the library from a full pull (since 0, paged): pulls every page first (the local
 * library stays usable meanwhile), then in ONE transaction forgets the registers and rows,
 * folds the pulled ops, folds the still-pending local ops on top (they were never accepted
 * by the server, so they stay queued) and sets the cursor to the last pulled id. A failure
 * before that transaction leaves the local state as it was.
 */
export async function rebuildFromServer(
  deps: RebuildDeps,
): Promise<{ ops: number; cursor: number }> {
  const { library } = deps;
  const limit = Math.min(deps.pageSize ?? MAX_PULL_LIMIT, MAX_PULL_LIMIT);
  let ops: SyncOp[] = [];
  let since = 0;
  for (let restarts = 0, pages = 0; ; pages++) {
    if (pages >= MAX_PAGES) throw new Error(`full pull stopped after ${MAX_PAGES} pages`);
    let page: PullResult;
    try {
      // fullResync: paging on from 0, this reader holds every op that survived compaction
      // below its position, so the server does not refuse pages below the watermark.
      page = await deps.pull({ since, limit, fullResync: true });
    } catch (error) {
      const failure = classifyFailure(error);
      // Compaction raised the watermark past our page: start again from 0.
      if (
        failure.kind === "sync" &&
        failure.error.type === "resync_required" &&
        restarts < MAX_RESTARTS
      ) {
        restarts += 1;
        ops = [];
        since = 0;
        continue;
      }
      throw error;
    }
    ops.push(...page.ops);
    since = page.nextSince;
    deps.onProgress({ phase: "pulling", done: ops.length, total: null });
    if (!page.hasMore) break;
  }

  const total = ops.length;
  deps.onProgress({ phase: "applying", done: 0, total });
  library.db
    .transaction(() => {
      library.clearLibrary();
      ops.forEach((op, index) => {
        library.clock.observe(op.lamportTs);
        library.fold(op);
        if ((index + 1) % PROGRESS_EVERY === 0) {
          deps.onProgress({ phase: "applying", done: index + 1, total });
        }
      });
      library.refoldPending();
      library.setCursor(since);
    })
    .immediate();
  deps.onProgress({ phase: "done", done: total, total });
  return { ops: total, cursor: since };
}
