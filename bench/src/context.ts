import type { exportPublicJwks, SigningKey } from "@chorus/auth";
import type pg from "pg";
import type { Progress } from "./progress.js";
import type { SectionResult } from "./report.js";

/** What every section gets: the run's database, a raw pool on it and the token key. */
export interface BenchContext {
  databaseUrl: string;
  /** Raw `pg` on the bench database: fixtures and baselines. */
  pool: pg.Pool;
  key: SigningKey;
  jwks: Awaited<ReturnType<typeof exportPublicJwks>>;
  redisUrl: string;
  openFilesLimit: number | null;
}

export type SectionOutcome = Pick<SectionResult, "figures" | "notes" | "notMeasured" | "failed">;

export interface Section {
  number: number;
  title: string;
  /** The longest it may take; the run gives up on it past this. */
  budgetMs: number;
  /**
   * Runs only when BENCH_ONLY names it: the scale sections (a million-op account, 50,000
   * sockets) take minutes each and are not part of the ten-minute run.
   */
  optIn?: boolean;
  run(context: BenchContext, progress: Progress): Promise<SectionOutcome>;
}

/** The bench's source folder, for starting children. */
export const CHILD_SYNC_SERVER = new URL("./child/sync-server.ts", import.meta.url);
export const CHILD_RAW_WS = new URL("./child/raw-ws-server.ts", import.meta.url);
export const CHILD_ENGINE = new URL("./child/engine.ts", import.meta.url);
export const CHILD_RESYNC = new URL("./child/resync-engine.ts", import.meta.url);
export const CHILD_SOCKET_CLIENT = new URL("./child/socket-client.ts", import.meta.url);
