import type { SyncOp } from "@chorus/protocol";
import type {
  Diagnostics,
  DiscardOpResult,
  FieldHistory,
  LibrarySnapshot,
  OverwrittenValue,
} from "../contract.js";

/** How the CLI says things to a person (the --json output is the values themselves). */

/** What an update-required failure prints: what it means, then the server's words. */
export const UPDATE_REQUIRED = "update required: the server does not serve this version of the app";

/** What the polling state means, after the state in `status`. */
export const POLLING =
  "connected without live updates: the WebSocket cannot be opened (a proxy refusing it?), so changes from other devices are pulled over HTTP every few seconds";

export function formatStatus(s: Diagnostics): string {
  const age =
    s.oldestPendingAgeMs === null ? "" : ` (oldest ${Math.round(s.oldestPendingAgeMs / 1000)} s)`;
  return [
    `profile      ${s.profile}`,
    `device id    ${s.deviceId} ${s.account ? "(the id the server knows this device by)" : "(local; signing in replaces it with the id the server assigns)"}`,
    `mode         ${s.mode}`,
    `connection   ${s.connection}${s.revokedAt ? ` (revoked from the account; noticed ${s.revokedAt})` : ""}${s.connection === "polling" ? ` (${POLLING})` : ""}`,
    `account      ${s.account ? `${s.account.email ?? s.account.userId} on ${s.account.syncUrl}${s.account.signedIn ? "" : " (signed out)"}` : "not bound"}`,
    `lamport      ${s.lamport}`,
    `pending ops  ${s.pendingCount}${age}`,
    `cursor       ${s.cursor}`,
    ...(s.resync ? [`resync       ${formatResync(s.resync)}`] : []),
    `last error   ${s.lastError ? `${s.lastError.code}: ${s.lastError.message} (${s.lastError.at})` : "none"}`,
    `quarantined  ${s.quarantinedCount}${s.quarantinedCount > 0 ? " (refused by the server for good; kept on this computer, never synced)" : ""}`,
    ...s.quarantined.map(
      (q) => `  ${q.entity} ${q.entityId}${q.field ? `.${q.field}` : ""} (${q.op}): ${q.reason}`,
    ),
    `overwritten  ${s.overwrittenCount}${s.overwrittenCount > 0 ? " (values this device and another disagreed on; see `conflicts`)" : ""}`,
    ...(s.connection === "update_required"
      ? [
          `UPDATE REQUIRED: the server does not serve this version of the app; sync is stopped until it is updated${s.lastError ? ` (${s.lastError.message})` : ""}`,
        ]
      : []),
    "",
  ].join("\n");
}

function formatResync(progress: NonNullable<Diagnostics["resync"]>): string {
  if (progress.phase === "pulling") return `pulling from the server, ${progress.done} ops so far`;
  const of = progress.total === null ? "" : ` of ${progress.total}`;
  return `${progress.phase === "done" ? "done" : "applying"}, ${progress.done}${of} ops`;
}

export function formatLibrary(library: LibrarySnapshot): string {
  const lines = library.playlists.flatMap((p) => [
    `${p.name}  [${p.id}]`,
    ...p.entries.map((e, i) => `  ${i + 1}. ${e.track.title}`),
  ]);
  lines.push(`${library.tracks.length} track(s)`);
  return `${lines.join("\n")}\n`;
}

export function formatOp(op: SyncOp): string {
  const what =
    op.op === "delete"
      ? "deleted"
      : op.field
        ? `${op.field} = ${JSON.stringify(op.value)}`
        : `created ${JSON.stringify(op.value)}`;
  return `#${op.id} ${op.entity} ${op.entityId}: ${what}\n`;
}

function deviceLabel(side: { deviceId: string; deviceName: string | null; here: boolean }): string {
  if (side.here) return "this device";
  return side.deviceName ? `${side.deviceName} (${side.deviceId})` : side.deviceId;
}

/** The overwritten values, one paragraph each: what lost, what won, from where, when. */
export function formatOverwritten(records: readonly OverwrittenValue[]): string {
  if (records.length === 0) return "No overwritten values\n";
  return `${records
    .map((r) => {
      const head = `#${r.id} ${r.entity} ${r.entityId}.${r.field}  ${r.at}${r.dismissed ? " (dismissed)" : ""}`;
      const what =
        r.outcome === "lost"
          ? `  the value written here, ${JSON.stringify(r.lost.value)}, was overwritten by ${JSON.stringify(r.won.value)} from ${deviceLabel(r.won)}`
          : `  ${JSON.stringify(r.lost.value)} from ${deviceLabel(r.lost)} was overwritten by the value written here, ${JSON.stringify(r.won.value)}`;
      return `${head}\n${what}`;
    })
    .join("\n")}\n`;
}

/** The outbox: each change still waiting and each one refused, with its id and why it waits. */
export function formatOutbox(s: Diagnostics): string {
  const what = (op: { entity: string; entityId: string; field: string | null; op: string }) =>
    `${op.entity} ${op.entityId}${op.field ? `.${op.field}` : ""} (${op.op})`;
  const lines = [
    `waiting  ${s.pendingCount}${s.pendingCount > s.pending.length ? ` (the oldest ${s.pending.length} shown)` : ""}`,
    ...s.pending.map(
      (op) =>
        `  ${op.operationId}  ${what(op)}  made ${op.madeAt}${op.attempts > 0 ? `; ${op.attempts} failed attempt(s): ${op.lastError ?? "unknown error"}` : "; not tried yet"}`,
    ),
    `refused  ${s.quarantinedCount}${s.quarantinedCount > s.quarantined.length ? ` (the newest ${s.quarantined.length} shown)` : ""}`,
    ...s.quarantined.map((q) => `  ${q.operationId}  ${what(q)}  ${q.at}: ${q.reason}`),
  ];
  if (s.pendingCount + s.quarantinedCount > 0) {
    lines.push("retry: `outbox retry <id>`; take back: `outbox discard <id>`");
  }
  return `${lines.join("\n")}\n`;
}

export function formatDiscard(result: DiscardOpResult): string {
  if (!result.discarded) {
    return `Not discarded: ${result.operationId} reached the server first; it stays and syncs\n`;
  }
  return result.reverted
    ? `Discarded ${result.operationId}; the items it changed show the server's values again\n`
    : `Discarded ${result.operationId}; nothing here showed it any more\n`;
}

/** A field's history, newest first: value, who wrote it, when it was replaced, how to restore. */
export function formatFieldHistory(history: FieldHistory): string {
  const head = `${history.entity} ${history.entityId}.${history.field}`;
  if (history.versions.length === 0) return `${head}: no value known here\n`;
  const lines = history.versions.map((v) => {
    const by = deviceLabel(v);
    const state = v.current
      ? "current"
      : v.replacedBy
        ? `replaced by ${deviceLabel(v.replacedBy)} (noticed ${v.replacedAt})`
        : "older";
    const restore = v.restore
      ? `  restore: conflicts restore --id ${v.restore.recordId} --side ${v.restore.side}`
      : "";
    return `  ${JSON.stringify(v.value)}  by ${by}  [${state}]${restore}`;
  });
  return `${head}\n${lines.join("\n")}\n`;
}
