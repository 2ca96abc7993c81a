import type { Services } from "@chorus/api";
import type { Logger } from "./logger.js";

/** The next time of day `hh:mm` (UTC) strictly after `now`. */
export function nextRunAt(time: string, now: Date): Date {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!match) throw new Error(`COMPACTION_TIME must be HH:MM in UTC (got "${time}")`);
  const next = new Date(now);
  next.setUTCHours(Number(match[1]), Number(match[2]), 0, 0);
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next;
}

/**
 * Nightly compaction. Every replica schedules it; the runner's advisory lock lets one run and
 * the others record a skip.
 */
export function scheduleCompaction(
  services: Services,
  time: string,
  logger: Logger,
  /** Runs after each scheduled compaction this replica ran (blob garbage collection). */
  after?: () => Promise<void>,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const at = nextRunAt(time, new Date());
    services.compaction.nextScheduledAt = at;
    timer = setTimeout(() => void fire(), at.getTime() - Date.now());
    timer.unref();
    logger.info({ at: at.toISOString() }, "next compaction scheduled");
  };
  const fire = async () => {
    let ran = false;
    try {
      const result = await services.compaction.run({ trigger: "scheduled" });
      logger.info(
        {
          outcome: result.outcome,
          runId: result.runId,
          opsDeleted: "opsDeleted" in result ? result.opsDeleted : 0,
        },
        "scheduled compaction finished",
      );
      // Another replica's run holds the lock: that replica also runs what comes after.
      ran = result.outcome !== "skipped";
    } catch (error) {
      logger.error({ err: error }, "scheduled compaction failed");
    }
    try {
      if (ran) await after?.();
    } catch (error) {
      logger.error({ err: error }, "work scheduled after compaction failed");
    } finally {
      arm();
    }
  };
  arm();
  return () => clearTimeout(timer);
}
