import type { SyncOp } from "@chorus/protocol";

/** A page as readPage answers it. */
export interface Page {
  ops: SyncOp[];
  more: boolean;
}

export interface ReadAheadOptions {
  /** Pages held at once, all users together; past it no page is read ahead (default 8). */
  maxHeld?: number;
  /** A page read ahead and not asked for within this many ms is dropped (default 5 s). */
  heldMs?: number;
}

interface Held {
  page: Promise<Page>;
  timer: NodeJS.Timeout;
}

/**
 * The next page of a full resync, read while the device is still busy with this one
 * (ADR 0045). A full resync asks for its pages one at a time, each `since` the previous page's
 * last id, so each page waited for Postgres and for this process to read its rows after the
 * device had asked, while both stood idle in turn. Once a full resync's page is answered with
 * more to come, the page after it (since its last id, the same limit and byte bound) is read
 * at once and held; the device's next request takes it instead of reading again.
 *
 * A held page is what that request would have read a moment earlier, which a full resync
 * accepts: it skips the watermark check (it holds every surviving op below its position), and
 * an op committed after the read is in a later page or, past the last one, reaches the device
 * through its subscription from the cursor, as with a request that came a moment sooner. Only
 * full resync requests take held pages. Memory: at most `maxHeld` pages, each one page of a
 * pull (bounded by count and bytes), dropped unasked after `heldMs`; a held read that failed
 * is read again for the request.
 */
export class ResyncReadAhead {
  private readonly held = new Map<string, Held>();
  private readonly maxHeld: number;
  private readonly heldMs: number;

  constructor(
    private readonly read: (userId: string, since: number, limit: number) => Promise<Page>,
    options: ReadAheadOptions = {},
  ) {
    this.maxHeld = options.maxHeld ?? 8;
    this.heldMs = options.heldMs ?? 5_000;
  }

  /** The page of `userId` after `since`: the one read ahead for it, or read now; then the next is read ahead. */
  async page(userId: string, since: number, limit: number): Promise<Page> {
    const key = keyOf(userId, since, limit);
    const held = this.held.get(key);
    let page: Page;
    if (held) {
      this.held.delete(key);
      clearTimeout(held.timer);
      page = await held.page.catch(() => this.read(userId, since, limit));
    } else {
      page = await this.read(userId, since, limit);
    }
    const last = page.ops.at(-1);
    if (page.more && last !== undefined) this.readAhead(userId, last.id, limit);
    return page;
  }

  /** Pages held now (tests). */
  get size(): number {
    return this.held.size;
  }

  /** Drops every held page and waits for the reads still running (the server is stopping). */
  async stop(): Promise<void> {
    const reads = [...this.held.values()].map((held) => {
      clearTimeout(held.timer);
      return held.page;
    });
    this.held.clear();
    await Promise.allSettled(reads);
  }

  private readAhead(userId: string, since: number, limit: number): void {
    const key = keyOf(userId, since, limit);
    if (this.held.has(key) || this.held.size >= this.maxHeld) return;
    const page = this.read(userId, since, limit);
    // A failure is met by the request that takes the page (it reads again), or by nobody.
    page.catch(() => {});
    const timer = setTimeout(() => {
      if (this.held.get(key)?.page === page) this.held.delete(key);
    }, this.heldMs);
    timer.unref();
    this.held.set(key, { page, timer });
  }
}

function keyOf(userId: string, since: number, limit: number): string {
  return `${userId} ${since} ${limit}`;
}
