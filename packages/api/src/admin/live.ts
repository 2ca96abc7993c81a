import { createHash } from "node:crypto";
import { EventEmitter, on } from "node:events";
import type { CompactionProgress } from "../compaction/runner.js";
import type { Services } from "../context.js";

export type ConsoleEvent =
  | { kind: "changed"; at: string }
  | { kind: "compaction"; progress: CompactionProgress };

/** What the console shows, reduced to a fingerprint: when it changes, the console refetches. */
async function fingerprint(services: Services): Promise<string> {
  const [row] = await services.prisma.$queryRaw<Record<string, unknown>[]>`
    SELECT (SELECT max(id) FROM sync_op) AS newest,
           (SELECT max(last_seen_at) FROM device_sync_cursor) AS acked,
           (SELECT max(id) FROM sync_compaction_run) AS run,
           (SELECT max(updated_at) FROM sync_compaction_watermark) AS watermark,
           (SELECT count(*) FROM devices) AS devices,
           (SELECT max(revoked_at) FROM devices) AS revoked`;
  const hash = createHash("sha1");
  hash.update(
    JSON.stringify(row, (_key, value) => (typeof value === "bigint" ? String(value) : value)),
  );
  for (const ack of services.acks.peek()) hash.update(`${ack.deviceId}:${ack.lastSeenId}`);
  for (const id of [...services.bus.onlineDevices()].sort()) hash.update(id);
  return hash.digest("hex");
}

/**
 * The console's live feed: a "changed" event whenever pushes, ACKs, presence, revocations or
 * compaction change what it shows (checked every `intervalMs`), and compaction progress as it
 * happens. The browser refetches the visible page on "changed", so nothing needs a reload.
 */
export async function* consoleEvents(
  services: Services,
  signal: AbortSignal,
  intervalMs = 1_000,
): AsyncGenerator<ConsoleEvent> {
  const feed = new EventEmitter();
  const events = on(feed, "event", { signal });
  const onProgress = (progress: CompactionProgress) =>
    feed.emit("event", { kind: "compaction", progress } satisfies ConsoleEvent);
  services.compaction.progress.on("progress", onProgress);
  let last = "";
  const poll = async () => {
    try {
      const current = await fingerprint(services);
      if (current !== last) {
        last = current;
        feed.emit("event", {
          kind: "changed",
          at: new Date().toISOString(),
        } satisfies ConsoleEvent);
      }
    } catch {
      // The next beat tries again; the console keeps its last data meanwhile.
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  try {
    await poll();
    for await (const [event] of events) yield event as ConsoleEvent;
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    clearInterval(timer);
    services.compaction.progress.off("progress", onProgress);
  }
}
