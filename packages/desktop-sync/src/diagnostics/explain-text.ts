import type { Diagnosis, Verdict } from "@chorus/api";
import type { ConvergenceAudit } from "../engine/convergence.js";

/** "3 days", "40 min", "12 s": the largest unit that fits, rounded, for the CLI's English verdicts. */
export function roughDuration(ms: number): string {
  const abs = Math.abs(ms);
  const units: Array<[number, string, string]> = [
    [86_400_000, "day", "days"],
    [3_600_000, "hour", "hours"],
    [60_000, "min", "min"],
    [1_000, "s", "s"],
  ];
  for (const [index, [size, one, many]] of units.entries()) {
    // A unit fits when the value reaches it once rounded to the next smaller unit (59 min 59 s
    // is "1 hour", 40 min stays "40 min").
    const finer = units[index + 1]?.[0] ?? 1;
    if (abs + finer / 2 < size) continue;
    const n = Math.max(1, Math.round(abs / size));
    return `${n} ${n === 1 ? one : many}`;
  }
  return "0 s";
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** "playlist 0f3… field name": where an audit's first difference is. */
export function differenceWhere(d: { entity: string; entityId: string; field: string | null }) {
  return `${d.entity} ${d.entityId}${d.field === null ? "" : ` field ${d.field}`}`;
}

/** One verdict in plain English (the web app says the same, localized, from its catalogs). */
export function verdictText(verdict: Verdict): string {
  switch (verdict.code) {
    case "revoked":
      return `revoked on ${verdict.revokedAt}: it no longer syncs until it is bound again`;
    case "audit_mismatch": {
      const d = verdict.difference;
      const what = d
        ? `, first at ${differenceWhere(d)} (device ${d.device?.value ?? "(missing)"}, server ${d.server?.value ?? "(missing)"})`
        : "";
      return `data differs from the server: the convergence audit of ${verdict.auditedAt} found this device's state at position ${verdict.cursor} different from the server's log${what}; run a full resync (chorus-device resync) to rebuild it from the server`;
    }
    case "never_connected":
      return "never connected: bound, but it has not synced yet";
    case "below_watermark":
      return `below the watermark: its cursor ${verdict.cursor} is under the compaction watermark ${verdict.watermark}, so it must do a full resync (${plural(verdict.resyncOps, "op")}, about ${bytes(verdict.resyncBytes)})`;
    case "queue_stuck": {
      const waiting = `${plural(verdict.waiting, "op")} waiting`;
      if (verdict.refused > 0) {
        return `queue stuck: ${plural(verdict.refused, "op")} refused by the server${verdict.reason ? ` (${verdict.reason})` : ""}, ${waiting} behind it`;
      }
      return `queue stuck: pushes keep failing (${verdict.errorCode ?? "error"}), ${waiting} for ${roughDuration(verdict.oldestPendingAgeMs ?? 0)}`;
    }
    case "not_acknowledging":
      return `online but not acknowledging: ${verdict.lastAckAt ? `last ACK ${roughDuration(verdict.sinceAckMs ?? 0)} ago` : "no ACK yet"}, ${plural(verdict.opsBehind, "op")} behind`;
    case "offline": {
      const head = `offline for ${roughDuration(verdict.offlineMs)}`;
      if (verdict.resync === "next_compaction") {
        return `${head}; will need a full resync after the next compaction (${verdict.nextCompactionAt})`;
      }
      if (verdict.resync === "any_compaction") {
        return `${head}; stale, so the next compaction will force a full resync`;
      }
      return verdict.staleInMs >= 0
        ? `${head}; turns stale in ${roughDuration(verdict.staleInMs)}`
        : `${head}; stale for ${roughDuration(verdict.staleInMs)}`;
    }
    case "clock_skewed":
      return `clock skewed: this device's clock is ${roughDuration(verdict.skewMs)} ${verdict.skewMs > 0 ? "ahead of" : "behind"} the server's`;
    case "catching_up":
      return `catching up: ${plural(verdict.opsBehind, "op")} behind`;
    case "uploading":
      return `uploading: ${plural(verdict.waiting, "change")} waiting to upload`;
    case "in_sync":
      return "in sync";
  }
}

/** Where the CLI points for what to do: the runbook's page, each verdict's section on it. */
export const RUNBOOK_PAGE = "docs/runbooks/devices.md";

/** The CLI's `status --explain`: the verdicts first, then the facts they come from. */
export function formatDiagnosis(d: Diagnosis): string {
  const lines = d.verdicts.map((v) => `${v.severity === "ok" ? "✓" : "•"} ${verdictText(v)}`);
  if (lines.length === 0) lines.push("• no verdict: nothing is known about this device yet");
  const headline = d.verdicts[0];
  if (headline && headline.severity !== "ok") {
    lines.push(`  What to do: ${RUNBOOK_PAGE}#${headline.runbook}`);
  }
  const t = d.telemetry;
  lines.push(
    "",
    `Device ${d.name} (${d.deviceId}), app ${d.appVersion}`,
    `Cursor ${d.cursor.effective} (stored ${d.cursor.stored ?? "none"}${d.cursor.buffered !== null ? `, buffered ${d.cursor.buffered}` : ""}); newest op ${d.newestOp?.id ?? "none"}; watermark ${d.watermark}`,
    `Lag ${plural(d.lag.ops, "op")}${d.lag.ops ? `, oldest ${roughDuration(d.lag.ms)} old` : ""}`,
    `Socket ${d.socket.online ? "online" : "offline"}${d.socket.replica ? ` (replica ${d.socket.replica}, ${d.socket.closedAt ? `closed ${d.socket.closedAt}` : `since ${d.socket.connectedAt}`})` : ""}`,
    `Stale cut-off ${d.stale.stale ? `passed ${roughDuration(d.stale.staleInMs)} ago` : `in ${roughDuration(d.stale.staleInMs)}`}; next compaction ${d.nextCompactionAt ?? "not scheduled"}`,
  );
  if (t) {
    lines.push(
      `Reported ${t.receivedAt} (${t.source}): queue ${t.queueDepth}, quarantined ${t.quarantinedCount}, clock skew ${t.clockSkewMs} ms, protocol ${t.protocolVersion}${t.lastError ? `, last error ${t.lastError.code}: ${t.lastError.message}` : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Why the server could not compare, in the CLI's English. */
const NOT_COMPARABLE: Record<string, string> = {
  pending_ops: "changes still wait to upload: the server cannot know them yet (try after a push)",
  below_watermark: "this device is below the compaction watermark: it needs a full resync first",
  beyond_head: "this device claims a position past the server's newest change",
};

/** The CLI's `audit`: whether the device's synced state matches the server's at its cursor. */
export function formatAudit(audit: ConvergenceAudit): string {
  const lines = [`convergence audit at position ${audit.cursor} (${plural(audit.rows, "row")})`];
  if (audit.outcome === "match") {
    lines.push("match: this device holds exactly what the server's log says at this position");
  } else if (audit.outcome === "not_comparable") {
    lines.push(`not comparable: ${NOT_COMPARABLE[audit.reason ?? ""] ?? audit.reason}`);
  } else {
    lines.push("MISMATCH: this device's state differs from the server's log at this position");
    const d = audit.firstDifference;
    if (d) {
      const where = differenceWhere(d);
      const side = (s: typeof d.device) =>
        s === null ? "(none)" : `${s.value}${s.lamportTs === null ? "" : ` @ ${s.lamportTs}`}`;
      lines.push(`first difference: ${where}`);
      lines.push(`  this device: ${side(d.device)}`);
      lines.push(`  server:      ${side(d.server)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
