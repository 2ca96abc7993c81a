import { hostname } from "node:os";
import type { SyncOp } from "@chorus/protocol";
import packageJson from "../../package.json" with { type: "json" };
import type { Diagnostics, EntryPlacement, LibrarySnapshot } from "../contract.js";
import { DeviceEngine } from "../engine.js";
import { EngineError } from "../errors.js";
import { tokenClaims } from "../sync/session.js";
import { expectArgs, expectNone, expectOne, UsageError } from "./args.js";
import type { CliIo } from "./run.js";

export interface CommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | undefined>;
  dataDir: string;
  /** Resolves --profile / CHORUS_PROFILE / the only profile (throws when ambiguous). */
  profile(): string;
  json: boolean;
  print(value: unknown, human: string): void;
  io: CliIo;
  timeoutMs: number;
}

/** The version this CLI reports when it binds a profile: its package's, bundled at build. */
const APP_VERSION = packageJson.version;

function str(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === "string" ? value : undefined;
}

function placement(ctx: CommandContext): EntryPlacement {
  const after = str(ctx, "after");
  const before = str(ctx, "before");
  return { ...(after ? { after } : {}), ...(before ? { before } : {}) };
}

/** Resolves after `ms`, or at once when the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs until SIGINT/SIGTERM (the io's signal), or until the account revokes the device. */
function untilStopped(signal: AbortSignal | undefined, engine: DeviceEngine): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || engine.revokedAt()) return resolve();
    const off = engine.on(() => {
      if (engine.revokedAt()) done();
    });
    const done = () => {
      off();
      resolve();
    };
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Commands that need the account fail at once, and alike, on a revoked device. */
function refuseIfRevoked(engine: DeviceEngine): void {
  if (engine.revokedAt()) throw engine.revokedError();
}

/** Polls (bounded by `timeoutMs`) until `done`; true when it happened in time. */
async function waitUntil(done: () => boolean, timeoutMs: number, signal?: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline || signal?.aborted) return false;
    await sleep(20, signal);
  }
  return true;
}

export async function runEngineCommand(ctx: CommandContext): Promise<number> {
  const { command, args, io } = ctx;
  const engine = DeviceEngine.open({
    dataDir: ctx.dataDir,
    profile: ctx.profile(),
    log: (message, context) => {
      if (command === "run" || command === "watch")
        io.stderr(`${JSON.stringify({ time: new Date().toISOString(), message, ...context })}\n`);
    },
  });
  try {
    return await dispatch(ctx, engine, command, args);
  } finally {
    await engine.close();
  }
}

/** After a local edit from a one-shot command: try to upload it before exiting (bounded). */
async function syncAfterEdit(ctx: CommandContext, engine: DeviceEngine): Promise<boolean> {
  if (engine.mode() !== "hybrid" || !engine.account()?.signedIn) return false;
  await engine.start();
  await waitUntil(
    () => {
      const s = engine.diagnostics();
      return (
        s.pendingCount === 0 || s.connection === "update_required" || engine.revokedAt() !== null
      );
    },
    ctx.timeoutMs,
    ctx.io.signal,
  );
  return engine.diagnostics().pendingCount === 0 && engine.revokedAt() === null;
}

/** What an update-required failure prints: what it means, then the server's words. */
const UPDATE_REQUIRED = "update required: the server does not serve this version of the app";

async function edit<T extends object>(
  ctx: CommandContext,
  engine: DeviceEngine,
  change: () => Promise<T>,
  human: (result: T) => string,
): Promise<number> {
  // Server-connected mode writes through the server: the library must be loaded first.
  if (engine.mode() === "server") {
    refuseIfRevoked(engine);
    await engine.start();
  }
  const result = await change();
  const uploaded = engine.mode() === "server" || (await syncAfterEdit(ctx, engine));
  // Hybrid and Local keep the edit here: it is made, and uploads after a new sign-in.
  if (engine.revokedAt()) ctx.io.stderr(`warning: ${engine.revokedError().message}\n`);
  ctx.print({ ...result, uploaded }, `${human(result)}${uploaded ? "" : " (queued)"}\n`);
  return 0;
}

async function dispatch(
  ctx: CommandContext,
  engine: DeviceEngine,
  command: string,
  args: string[],
): Promise<number> {
  const [sub, ...rest] = args;
  switch (command) {
    case "status": {
      expectNone(args, "status");
      const status = engine.diagnostics();
      ctx.print(status, formatStatus(status));
      refuseIfRevoked(engine);
      return 0;
    }
    case "clear-error":
      expectNone(args, "clear-error");
      engine.clearLastError();
      ctx.print({ cleared: true }, "Last error cleared\n");
      return 0;
    case "mode": {
      if (args.length === 0) {
        ctx.print({ mode: engine.mode() }, `${engine.mode()}\n`);
        return 0;
      }
      const mode = expectOne(args, "mode [local|hybrid|server]");
      if (mode !== "local" && mode !== "hybrid" && mode !== "server") {
        throw new UsageError(`unknown mode "${mode}": use local, hybrid or server`);
      }
      if (mode === "server") {
        refuseIfRevoked(engine);
        await engine.start();
      }
      await engine.setMode(mode);
      ctx.print({ mode }, `Mode: ${mode}\n`);
      return 0;
    }
    case "signin": {
      expectNone(args, "signin --web-url <url>");
      const webUrl = str(ctx, "web-url");
      if (!webUrl) throw new UsageError("signin needs --web-url <url of the Chorus web app>");
      const account = await engine.signInWithBrowser({
        webUrl,
        deviceName: `${hostname()} — ${engine.profileName}`.slice(0, 80),
        platform: `${ctx.io.platform}`,
        appVersion: APP_VERSION,
        openUrl: (url) => {
          ctx.print({ url }, `Open this address in your browser to sign in:\n\n  ${url}\n\n`);
          if (!ctx.values["no-open"]) ctx.io.openUrl?.(url);
        },
        ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
      });
      ctx.print({ account }, `Signed in as ${account.email ?? account.userId}\n`);
      return 0;
    }
    case "bind-token": {
      expectNone(args, "bind-token --sync-url <url> --token <jwt>");
      const syncUrl = str(ctx, "sync-url");
      const token = str(ctx, "token");
      if (!syncUrl || !token) throw new UsageError("bind-token needs --sync-url and --token");
      let claims: ReturnType<typeof tokenClaims>;
      try {
        claims = tokenClaims(token);
      } catch (error) {
        throw new UsageError(`--token: ${(error as Error).message}`);
      }
      await engine.bindWithToken({
        syncUrl,
        token,
        userId: claims.userId,
        deviceId: claims.deviceId,
      });
      ctx.print(
        { account: engine.account() },
        `Bound to ${claims.userId} as device ${claims.deviceId}\n`,
      );
      return 0;
    }
    case "signout":
      expectNone(args, "signout");
      {
        const { revokedOnServer } = await engine.signOut();
        ctx.print(
          { signedOut: true, revokedOnServer },
          revokedOnServer
            ? "Signed out; this device is unbound on the server and the library stays here\n"
            : "Signed out on this computer (the server could not be told); the library stays here\n",
        );
      }
      return 0;
    case "push": {
      expectNone(args, "push");
      refuseIfRevoked(engine);
      if (!engine.account()?.signedIn || engine.mode() !== "hybrid") {
        throw new EngineError("not_signed_in", "push needs a signed-in profile in Hybrid mode", {});
      }
      await engine.start();
      const outcome = await engine.pushNow();
      refuseIfRevoked(engine);
      const status = engine.diagnostics();
      ctx.print(
        { outcome, pendingCount: status.pendingCount },
        outcome?.status === "failed"
          ? `Push failed: ${status.connection === "update_required" ? `${UPDATE_REQUIRED} (${outcome.failure.message})` : outcome.failure.message}; ${status.pendingCount} change(s) stay queued\n`
          : `Pushed ${outcome?.pushed ?? 0} change(s)\n`,
      );
      return outcome?.status === "failed" ? 1 : 0;
    }
    case "sync": {
      expectNone(args, "sync");
      refuseIfRevoked(engine);
      await engine.start();
      const isSynced = () => {
        const s = engine.diagnostics();
        return s.connection === "connected" && s.pendingCount === 0;
      };
      // An update-required or revoked answer does not change by waiting: report it at once.
      await waitUntil(
        () => {
          const s = engine.diagnostics();
          return isSynced() || s.connection === "update_required" || s.revokedAt !== null;
        },
        ctx.timeoutMs,
        ctx.io.signal,
      );
      refuseIfRevoked(engine);
      const synced = isSynced();
      // Give the subscription's backfill a moment to land before reporting.
      if (synced) await sleep(200, ctx.io.signal);
      const status = engine.diagnostics();
      ctx.print(
        { synced, status },
        synced
          ? formatStatus(status)
          : `Not synced within ${ctx.timeoutMs} ms\n${formatStatus(status)}`,
      );
      return synced ? 0 : 1;
    }
    case "watch":
    case "run": {
      expectNone(args, command);
      refuseIfRevoked(engine);
      if (command === "watch") {
        engine.on((event) => {
          if (event.type === "remote-ops") for (const op of event.ops) ctx.print(op, formatOp(op));
        });
      }
      let told = false;
      engine.on((event) => {
        if (event.type !== "status" || told) return;
        const s = engine.diagnostics();
        if (s.connection !== "update_required") return;
        told = true;
        ctx.io.stderr(
          `chorus-device: ${UPDATE_REQUIRED}; sync is stopped (${s.lastError?.message ?? "upgrade_required"})\n`,
        );
      });
      await engine.start();
      if (command === "run")
        ctx.io.stderr(`chorus-device: syncing profile ${engine.profileName}; Ctrl-C stops\n`);
      await untilStopped(ctx.io.signal, engine);
      refuseIfRevoked(engine);
      return 0;
    }
    case "library": {
      expectNone(args, "library");
      if (engine.mode() === "server") await loadServerState(ctx, engine);
      const library = engine.snapshot();
      ctx.print(library, formatLibrary(library));
      return 0;
    }
    case "playlist":
      switch (sub) {
        case "list": {
          expectNone(rest, "playlist list");
          if (engine.mode() === "server") await loadServerState(ctx, engine);
          const playlists = engine.playlists();
          ctx.print(
            playlists,
            playlists.map((p) => `${p.id}  ${p.name}  (${p.entryCount})\n`).join("") ||
              "No playlists\n",
          );
          return 0;
        }
        case "show": {
          const id = expectOne(rest, "playlist show <id>");
          if (engine.mode() === "server") await loadServerState(ctx, engine);
          const playlist = engine.playlist(id);
          if (!playlist) throw new EngineError("not_found", `no playlist with id ${id}`, { id });
          ctx.print(
            playlist,
            `${playlist.name}\n${playlist.entries.map((e, i) => `  ${i + 1}. ${e.track.title}  [${e.id}]\n`).join("")}`,
          );
          return 0;
        }
        case "create": {
          const name = expectOne(rest, "playlist create <name>");
          return edit(
            ctx,
            engine,
            () => engine.createPlaylist(name),
            (p) => `Created playlist ${p.name} (${p.id})`,
          );
        }
        case "rename": {
          const [id = "", name = ""] = expectArgs(rest, 2, "playlist rename <id> <name>");
          return edit(
            ctx,
            engine,
            () => engine.renamePlaylist(id, name),
            (p) => `Renamed playlist ${p.id} to ${p.name}`,
          );
        }
        case "delete": {
          const id = expectOne(rest, "playlist delete <id>");
          return edit(
            ctx,
            engine,
            () => engine.deletePlaylist(id),
            (p) => `Deleted playlist ${p.id}`,
          );
        }
        default:
          throw new UsageError(`unknown command "playlist ${sub ?? ""}"`);
      }
    case "track":
      switch (sub) {
        case "list": {
          expectNone(rest, "track list");
          if (engine.mode() === "server") await loadServerState(ctx, engine);
          const tracks = engine.tracks();
          ctx.print(
            tracks,
            tracks
              .map((t) => `${t.id}  ${t.title}${t.artist ? ` — ${t.artist}` : ""}\n`)
              .join("") || "No tracks\n",
          );
          return 0;
        }
        case "add": {
          const title = expectOne(rest, "track add <title>");
          const duration = str(ctx, "duration-ms");
          const track = {
            title,
            artist: str(ctx, "artist") ?? null,
            album: str(ctx, "album") ?? null,
            durationMs: duration === undefined ? null : Number(duration),
          };
          return edit(
            ctx,
            engine,
            () => engine.addTrack(track),
            (t) => `Added track ${t.title} (${t.id})`,
          );
        }
        case "delete": {
          const id = expectOne(rest, "track delete <id>");
          return edit(
            ctx,
            engine,
            () => engine.deleteTrack(id),
            (t) => `Deleted track ${t.id}`,
          );
        }
        default:
          throw new UsageError(`unknown command "track ${sub ?? ""}"`);
      }
    case "entry":
      switch (sub) {
        case "add": {
          const [playlistId = "", trackId = ""] = expectArgs(
            rest,
            2,
            "entry add <playlist-id> <track-id>",
          );
          return edit(
            ctx,
            engine,
            () => engine.addEntry(playlistId, trackId, placement(ctx)),
            (e) => `Added entry ${e.id}`,
          );
        }
        case "move": {
          const id = expectOne(rest, "entry move <entry-id> (--after | --before | --to-end)");
          const where = placement(ctx);
          if (!where.after && !where.before && !ctx.values["to-end"]) {
            throw new UsageError(
              "entry move needs --after <entry-id>, --before <entry-id> or --to-end",
            );
          }
          return edit(
            ctx,
            engine,
            () => engine.moveEntry(id, where),
            (e) => `Moved entry ${e.id}`,
          );
        }
        case "remove": {
          const id = expectOne(rest, "entry remove <entry-id>");
          return edit(
            ctx,
            engine,
            () => engine.removeEntry(id),
            (e) => `Removed entry ${e.id}`,
          );
        }
        default:
          throw new UsageError(`unknown command "entry ${sub ?? ""}"`);
      }
    default:
      throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(" ")}"`);
  }
}

/** Server-connected mode keeps nothing on disk: reading means loading from the server. */
async function loadServerState(ctx: CommandContext, engine: DeviceEngine): Promise<void> {
  refuseIfRevoked(engine);
  await engine.start();
  const loaded = await waitUntil(
    () => ["connected", "update_required", "revoked"].includes(engine.diagnostics().connection),
    ctx.timeoutMs,
    ctx.io.signal,
  );
  refuseIfRevoked(engine);
  if (engine.diagnostics().connection === "update_required") {
    throw new EngineError("update_required", UPDATE_REQUIRED, {});
  }
  if (!loaded) {
    throw new EngineError(
      "offline",
      "server-connected mode: the library could not be loaded from the server",
      {},
    );
  }
}

function formatStatus(s: Diagnostics): string {
  const age =
    s.oldestPendingAgeMs === null ? "" : ` (oldest ${Math.round(s.oldestPendingAgeMs / 1000)} s)`;
  return [
    `profile      ${s.profile}`,
    `device id    ${s.deviceId} ${s.account ? "(the id the server knows this device by)" : "(local; signing in replaces it with the id the server assigns)"}`,
    `mode         ${s.mode}`,
    `connection   ${s.connection}${s.revokedAt ? ` (revoked from the account; noticed ${s.revokedAt})` : ""}`,
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

function formatLibrary(library: LibrarySnapshot): string {
  const lines = library.playlists.flatMap((p) => [
    `${p.name}  [${p.id}]`,
    ...p.entries.map((e, i) => `  ${i + 1}. ${e.track.title}`),
  ]);
  lines.push(`${library.tracks.length} track(s)`);
  return `${lines.join("\n")}\n`;
}

function formatOp(op: SyncOp): string {
  const what =
    op.op === "delete"
      ? "deleted"
      : op.field
        ? `${op.field} = ${JSON.stringify(op.value)}`
        : `created ${JSON.stringify(op.value)}`;
  return `#${op.id} ${op.entity} ${op.entityId}: ${what}\n`;
}
