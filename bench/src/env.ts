import { z } from "zod";

/** The bench's settings, read once. Nothing else in bench/ reads process.env. */
const BenchEnv = z.object({
  /** A Postgres server the bench creates (and drops) its own database on. */
  BENCH_DATABASE_URL: z.url().optional(),
  /** Used when BENCH_DATABASE_URL is unset; without either, an embedded Postgres is started. */
  TEST_DATABASE_URL: z.url().optional(),
  /** Redis for the cross-replica figure (the bus). */
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  /**
   * Comma-separated section numbers to run (e.g. "1,4"); when unset, every section that is not
   * opt-in (the scale sections, 10 and up, run only when named here). A partial run.
   */
  BENCH_ONLY: z
    .string()
    .regex(/^\d+(,\d+)*$/, "BENCH_ONLY is a comma-separated list of section numbers, e.g. 1,4")
    .optional(),
  /** A directory: every server child writes a V8 CPU profile there when it stops. */
  BENCH_CPU_PROFILE_DIR: z.string().min(1).optional(),
  /** A directory: the saturation section writes each rate's deliveries and pauses there. */
  BENCH_STALLS_DIR: z.string().min(1).optional(),
});

export type BenchEnv = z.infer<typeof BenchEnv> & { sections: Set<number> | null };

export function loadEnv(source: NodeJS.ProcessEnv = process.env): BenchEnv {
  const parsed = BenchEnv.safeParse(source);
  if (!parsed.success) {
    throw new Error(`bench settings: ${z.prettifyError(parsed.error)}`);
  }
  const only = parsed.data.BENCH_ONLY;
  return { ...parsed.data, sections: only ? new Set(only.split(",").map(Number)) : null };
}

/** The settings that shape a run, as they appear in the recorded command. */
export function commandPrefix(env: BenchEnv, redact: (url: string) => string): string {
  const parts: string[] = [];
  if (env.BENCH_DATABASE_URL) parts.push(`BENCH_DATABASE_URL=${redact(env.BENCH_DATABASE_URL)}`);
  else if (env.TEST_DATABASE_URL) parts.push(`TEST_DATABASE_URL=${redact(env.TEST_DATABASE_URL)}`);
  if (env.BENCH_ONLY) parts.push(`BENCH_ONLY=${env.BENCH_ONLY}`);
  return parts.join(" ");
}
