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
  run(context: BenchContext, progress: Progress): Promise<SectionOutcome>;
}

/** The bench's source folder, for starting children. */
export const CHILD_SYNC_SERVER = new URL("./child/sync-server.ts", import.meta.url);
export const CHILD_RAW_WS = new URL("./child/raw-ws-server.ts", import.meta.url);
export const CHILD_ENGINE = new URL("./child/engine.ts", import.meta.url);
