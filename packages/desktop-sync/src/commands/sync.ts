import {
  formatDiscard,
  formatFieldHistory,
  formatOp,
  formatOutbox,
  formatOverwritten,
  formatStatus,
  UPDATE_REQUIRED,
} from "../cli/format.js";
import type { Diagnostics } from "../contract.js";
import { formatAudit, formatDiagnosis } from "../diagnostics/explain-text.js";
import { EngineError } from "../errors.js";
import type { DrainOutcome } from "../sync/drain.js";
import { defineCommand } from "./define.js";
import { refuseIfRevoked, sleep, untilStopped, waitUntil } from "./waiting.js";

/**
 * What "Sync now" did: uploaded some changes, found nothing to upload, could not upload
 * (the failure's kind), or could not try because this profile does not sync (Local mode,
 * signed out). `drain` is the drain's own account of it (the CLI prints it).
 */
export type PushReport = (
  | { outcome: "uploaded"; pushed: number; diagnostics: Diagnostics }
  | { outcome: "up_to_date"; pushed: 0; diagnostics: Diagnostics }
  | { outcome: "failed"; pushed: number; failure: string; diagnostics: Diagnostics }
  | { outcome: "not_syncing"; pushed: 0; diagnostics: Diagnostics }
) & { drain: DrainOutcome | null };

/** The sync state and the network side: diagnostics, uploading, following the server. */
export const syncCommands = [
  defineCommand({
    name: "getDiagnostics",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.diagnostics(),
    channel: "chorus:sync:diagnostics",
    cli: {
      path: ["status"],
      usage: "status",
      help: {
        section: "Account and sync",
        usage: "status",
        text: [
          "device id, mode, Lamport clock, queue, cursor, last error",
          "(exits 1 when the account revoked this device)",
        ],
      },
      kind: "plain",
      print: (status) => ({ json: status, human: formatStatus(status) }),
      afterPrint: refuseIfRevoked,
    },
  }),
  defineCommand({
    name: "listBlobs",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.blobs(),
    channel: null,
    desktopAbsent: "the window shows each file's state where the file is shown (a cover)",
    cli: {
      path: ["blobs"],
      usage: "blobs",
      help: {
        section: "Account and sync",
        usage: "blobs",
        text: ["files (covers): waiting to upload, uploaded, refused and why, missing"],
      },
      kind: "plain",
      print: (blobs) => ({
        json: blobs,
        human: `Waiting to upload: ${blobs.pending}\nUploaded: ${blobs.uploaded}\nMissing here: ${blobs.missing}\n${blobs.refused.map((r) => `Refused ${r.sha256}: ${r.reason}\n`).join("")}`,
      }),
    },
  }),
  defineCommand({
    name: "explainDevice",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.explain(),
    channel: "chorus:sync:explain",
    cli: {
      path: ["status"],
      selectedBy: "explain",
      usage: "status --explain",
      help: {
        section: "Account and sync",
        usage: "status --explain",
        text: ["why this device is behind, as the server sees both ends"],
      },
      kind: "account",
      print: (diagnosis) => ({ json: diagnosis, human: formatDiagnosis(diagnosis) }),
    },
  }),
  defineCommand({
    name: "listOverwritten",
    input: ({ z }) =>
      z
        .strictObject({
          entity: z.string().min(1).max(128).optional(),
          entityId: z.string().min(1).max(128).optional(),
          all: z.boolean().optional(),
          limit: z.int().min(1).max(200).optional(),
        })
        .optional(),
    run: (host, input) =>
      host.engine.overwritten({
        entity: input?.entity,
        entityId: input?.entityId,
        includeDismissed: input?.all ?? false,
        limit: input?.limit,
      }),
    channel: "chorus:sync:overwritten",
    cli: {
      path: ["conflicts"],
      options: [
        { name: "entity", type: "string" },
        { name: "entity-id", type: "string" },
        { name: "all", type: "boolean" },
        { name: "limit", type: "number" },
      ],
      usage: "conflicts [--entity E] [--entity-id ID] [--all] [--limit N]",
      help: {
        section: "Account and sync",
        usage: "conflicts [--all] [--entity E] [--entity-id ID]",
        text: [
          "values this device and another disagreed on: which lost, which won, from",
          "which device, when (newest first; --all includes dismissed ones)",
        ],
      },
      kind: "plain",
      print: (records) => ({ json: records, human: formatOverwritten(records) }),
    },
  }),
  defineCommand({
    name: "dismissOverwritten",
    input: ({ z }) =>
      z
        .strictObject({
          id: z.int().positive().optional(),
          ids: z.array(z.int().positive()).max(200).optional(),
        })
        .optional(),
    // Neither `id` nor `ids`: every record still shown is dismissed.
    run: (host, input) => ({
      dismissed: host.engine.dismissOverwritten(
        input?.ids ?? (input?.id !== undefined ? [input.id] : "all"),
      ),
    }),
    channel: "chorus:sync:dismiss-overwritten",
    cli: {
      path: ["conflicts", "dismiss"],
      options: [{ name: "id", type: "number" }],
      usage: "conflicts dismiss [--id N]",
      help: {
        section: "Account and sync",
        usage: "conflicts dismiss [--id N]",
        text: ["mark one overwritten value (or all) as seen"],
      },
      kind: "plain",
      print: ({ dismissed }) => ({
        json: { dismissed },
        human: `Dismissed ${dismissed} overwritten value(s)\n`,
      }),
    },
  }),
  defineCommand({
    name: "fieldHistory",
    input: ({ z }) =>
      z.strictObject({
        entity: z.string().min(1).max(128),
        entityId: z.string().min(1).max(128),
        field: z.string().min(1).max(128),
      }),
    run: (host, input) => host.engine.fieldHistory(input),
    channel: "chorus:sync:field-history",
    cli: {
      path: ["history"],
      args: ["entity", "entityId", "field"],
      usage: "history <entity> <entity-id> <field>",
      help: {
        section: "Account and sync",
        usage: "history <entity> <entity-id> <field>",
        text: [
          "a field's recent values: the current one, and each one it replaced or lost to,",
          "by which device, with the command that restores it",
        ],
      },
      kind: "read",
      print: (history) => ({ json: history, human: formatFieldHistory(history) }),
    },
  }),
  defineCommand({
    name: "restoreValue",
    input: ({ z }) =>
      z.strictObject({
        id: z.int().positive(),
        side: z.enum(["lost", "won"]).optional(),
      }),
    run: (host, input) => host.engine.restoreValue(input.id, input.side ?? "lost"),
    channel: "chorus:sync:restore-value",
    cli: {
      path: ["conflicts", "restore"],
      options: [
        { name: "id", type: "number" },
        { name: "side", type: "string" },
      ],
      usage: "conflicts restore --id N [--side lost|won]",
      help: {
        section: "Account and sync",
        usage: "conflicts restore --id N [--side lost|won]",
        text: [
          "write a value of an overwritten record again, as a new edit that syncs",
          "(default: the side that lost)",
        ],
      },
      kind: "edit",
      print: (result) => ({
        json: result,
        human: result.changed
          ? `Restored ${result.entity} ${result.entityId}.${result.field} = ${JSON.stringify(result.value)}\n`
          : `${result.entity} ${result.entityId}.${result.field} holds ${JSON.stringify(result.value)} already\n`,
      }),
    },
  }),
  defineCommand({
    name: "listOutbox",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.diagnostics(),
    channel: null,
    desktopAbsent: "the Diagnostics page lists the same changes from getDiagnostics",
    cli: {
      path: ["outbox"],
      usage: "outbox",
      help: {
        section: "Account and sync",
        usage: "outbox",
        text: ["each change waiting to upload and each one the server refused, with its id"],
      },
      kind: "plain",
      print: (status) => ({
        json: { pending: status.pending, quarantined: status.quarantined },
        human: formatOutbox(status),
      }),
    },
  }),
  defineCommand({
    name: "retryOp",
    input: ({ z }) => z.strictObject({ operationId: z.string().min(1).max(128) }),
    run: (host, input) => host.engine.retryOp(input.operationId),
    channel: "chorus:sync:retry-op",
    cli: {
      path: ["outbox", "retry"],
      args: ["operationId"],
      usage: "outbox retry <id>",
      help: {
        section: "Account and sync",
        usage: "outbox retry <id>",
        text: ["send a refused (or waiting) change again, e.g. once the cause is fixed"],
      },
      kind: "edit",
      print: (result) => ({
        json: result,
        human:
          result.outcome === "requeued"
            ? `${result.operationId} is back in the queue\n`
            : `${result.operationId} was waiting already; uploading now\n`,
      }),
    },
  }),
  defineCommand({
    name: "discardOp",
    input: ({ z }) => z.strictObject({ operationId: z.string().min(1).max(128) }),
    run: (host, input) => host.engine.discardOp(input.operationId),
    channel: "chorus:sync:discard-op",
    cli: {
      path: ["outbox", "discard"],
      args: ["operationId"],
      usage: "outbox discard <id>",
      help: {
        section: "Account and sync",
        usage: "outbox discard <id>",
        text: [
          "take back a waiting or refused change: it is never uploaded, and what it",
          "changed shows the server's (last synced) value again (needs the server)",
        ],
      },
      kind: "plain",
      print: (result) => ({ json: result, human: formatDiscard(result) }),
    },
  }),
  defineCommand({
    name: "auditConvergence",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.auditConvergence("on_demand"),
    channel: "chorus:sync:audit",
    cli: {
      path: ["audit"],
      usage: "audit",
      help: {
        section: "Account and sync",
        usage: "audit",
        text: [
          "compare this device's synced state with the server's log at its position",
          "(exits 1 on a mismatch, naming the first differing entity and field)",
        ],
      },
      kind: "account",
      print: (audit) => ({
        json: audit,
        human: formatAudit(audit),
        exitCode: audit.outcome === "mismatch" ? 1 : 0,
      }),
    },
  }),
  defineCommand({
    name: "resyncFromServer",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.resync(),
    channel: "chorus:sync:resync",
    cli: {
      path: ["resync"],
      usage: "resync",
      help: {
        section: "Account and sync",
        usage: "resync",
        text: [
          "rebuild this device's synced state from the server (a full resync; changes not",
          "uploaded yet are kept), then audit it (exits 1 if it still differs)",
        ],
      },
      kind: "account",
      prepare: async (host) => {
        const { engine } = host;
        if (!engine.account()?.signedIn || engine.mode() === "local") {
          throw new EngineError(
            "not_signed_in",
            "resync needs a signed-in profile in Hybrid or Server mode",
            {},
          );
        }
        await engine.start();
      },
      print: ({ cursor, audit }) => ({
        json: { cursor, audit },
        human: `Rebuilt from the server at position ${cursor}\n${formatAudit(audit)}`,
        exitCode: audit.outcome === "mismatch" ? 1 : 0,
      }),
    },
  }),
  defineCommand({
    name: "clearLastError",
    input: ({ z }) => z.undefined(),
    run: (host) => {
      host.engine.clearLastError();
      return host.engine.diagnostics();
    },
    channel: "chorus:sync:clear-last-error",
    cli: {
      path: ["clear-error"],
      usage: "clear-error",
      help: {
        section: "Account and sync",
        usage: "clear-error",
        text: ["forget the last sync error"],
      },
      kind: "plain",
      print: () => ({ json: { cleared: true }, human: "Last error cleared\n" }),
    },
  }),
  defineCommand({
    name: "pushNow",
    input: ({ z }) => z.undefined(),
    run: async (host): Promise<PushReport> => {
      const drain = await host.engine.pushNow();
      const diagnostics = host.engine.diagnostics();
      if (drain === null) return { outcome: "not_syncing", pushed: 0, diagnostics, drain };
      if (drain.status === "failed") {
        return {
          outcome: "failed",
          pushed: drain.pushed,
          failure: drain.failure.kind,
          diagnostics,
          drain,
        };
      }
      return drain.pushed > 0
        ? { outcome: "uploaded", pushed: drain.pushed, diagnostics, drain }
        : { outcome: "up_to_date", pushed: 0, diagnostics, drain };
    },
    channel: "chorus:sync:push-now",
    cli: {
      path: ["push"],
      usage: "push",
      help: { section: "Account and sync", usage: "push", text: ["upload queued changes now"] },
      kind: "account",
      prepare: async (host) => {
        const { engine } = host;
        if (!engine.account()?.signedIn || engine.mode() !== "hybrid") {
          throw new EngineError(
            "not_signed_in",
            "push needs a signed-in profile in Hybrid mode",
            {},
          );
        }
        await engine.start();
      },
      settle: (host) => refuseIfRevoked(host),
      print: ({ drain, diagnostics: status }) => ({
        json: { outcome: drain, pendingCount: status.pendingCount },
        human:
          drain?.status === "failed"
            ? `Push failed: ${status.connection === "update_required" ? `${UPDATE_REQUIRED} (${drain.failure.message})` : drain.failure.message}; ${status.pendingCount} change(s) stay queued\n`
            : `Pushed ${drain?.pushed ?? 0} change(s)\n`,
        exitCode: drain?.status === "failed" ? 1 : 0,
      }),
    },
  }),
  defineCommand({
    name: "syncOnce",
    input: ({ z }) => z.undefined(),
    run: async (host) => {
      const { engine } = host;
      await engine.start();
      const isSynced = () => {
        const s = engine.diagnostics();
        // Polling (the socket is refused, pulls over HTTP are answered) is in step as well.
        return (s.connection === "connected" || s.connection === "polling") && s.pendingCount === 0;
      };
      // An update-required or revoked answer does not change by waiting: report it at once.
      await waitUntil(
        () => {
          const s = engine.diagnostics();
          return isSynced() || s.connection === "update_required" || s.revokedAt !== null;
        },
        host.timeoutMs,
        host.signal,
      );
      refuseIfRevoked(host);
      const synced = isSynced();
      // Give the subscription's backfill a moment to land before reporting.
      if (synced) await sleep(200, host.signal);
      return { synced, status: engine.diagnostics() };
    },
    channel: null,
    desktopAbsent: "the window syncs all along while it is open",
    cli: {
      path: ["sync"],
      usage: "sync",
      help: {
        section: "Account and sync",
        usage: "sync",
        text: ["upload, then download what is new, once"],
      },
      kind: "account",
      print: ({ synced, status }, _input, host) => ({
        json: { synced, status },
        human: synced
          ? formatStatus(status)
          : `Not synced within ${host.timeoutMs} ms\n${formatStatus(status)}`,
        exitCode: synced ? 0 : 1,
      }),
    },
  }),
  defineCommand({
    name: "watch",
    input: ({ z }) => z.undefined(),
    run: async (host) => {
      host.engine.on((event) => {
        if (event.type === "remote-ops") for (const op of event.ops) host.stream(op, formatOp(op));
      });
      await follow(host);
      return null;
    },
    channel: null,
    desktopAbsent: "the window shows remote changes in the library as they arrive",
    cli: {
      path: ["watch"],
      usage: "watch",
      help: {
        section: "Account and sync",
        usage: "watch",
        text: ["print remote changes as they arrive (Ctrl-C stops)"],
      },
      kind: "account",
      settle: refuseIfRevoked,
      print: () => null,
    },
  }),
  defineCommand({
    name: "run",
    input: ({ z }) => z.undefined(),
    run: async (host) => {
      await follow(host, () =>
        host.warn(`chorus-device: syncing profile ${host.engine.profileName}; Ctrl-C stops\n`),
      );
      return null;
    },
    channel: null,
    desktopAbsent: "the window is itself the long-lived sync process",
    cli: {
      path: ["run"],
      usage: "run",
      help: {
        section: "Account and sync",
        usage: "run",
        text: ["the long-lived sync process (Ctrl-C stops)"],
      },
      kind: "account",
      settle: refuseIfRevoked,
      print: () => null,
    },
  }),
] as const;

/** Syncs until stopped or revoked, saying once on stderr when the server wants an update. */
async function follow(host: Parameters<typeof refuseIfRevoked>[0], started?: () => void) {
  const { engine } = host;
  let told = false;
  engine.on((event) => {
    if (event.type !== "status" || told) return;
    const s = engine.diagnostics();
    if (s.connection !== "update_required") return;
    told = true;
    host.warn(
      `chorus-device: ${UPDATE_REQUIRED}; sync is stopped (${s.lastError?.message ?? "upgrade_required"})\n`,
    );
  });
  await engine.start();
  started?.();
  await untilStopped(host);
}
