import { refreshingSession } from "../auth/refreshing-session.js";
import type { TokenResponse } from "../auth/token-endpoint.js";
import type { TokenStore } from "../auth/token-store.js";
import type { Account, SyncErrorInfo } from "../contract.js";
import { EngineError } from "../errors.js";
import { deleteMeta, readMeta, writeMeta } from "../store/meta.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { type SyncSession, staticSession } from "../sync/session.js";

/*
 * The account side of a profile as it is kept in the profile's meta table: who it is bound
 * to, the revocation the server told it about, and the sessions built from the stored
 * credential. The engine (engine.ts) decides when; these say how.
 */

/** What a refreshing session reports back to the engine. */
export interface SessionCallbacks {
  onSignedOut(reason: string): void;
  onRevoked(reason: string): void;
  fetch?: typeof fetch | undefined;
}

/** When this profile learnt that the account revoked its device (ISO), or null. */
export function readRevokedAt(db: SqliteDatabase): string | null {
  return readMeta(db, "revoked_at") ?? null;
}

/** Records a revocation and its reason as the last error, together. */
export function writeRevocation(db: SqliteDatabase, detail: string): void {
  const at = new Date().toISOString();
  db.transaction(() => {
    writeMeta(db, "revoked_at", at);
    const info: SyncErrorInfo = { code: "device_revoked", message: detail, at };
    writeMeta(db, "last_error", JSON.stringify(info));
  })();
}

/** The error every account or sync action fails with once the device is revoked. */
export function revokedErrorFor(db: SqliteDatabase, profileName: string): EngineError {
  const webUrl = readMeta(db, "web_url");
  const revokedAt = readRevokedAt(db);
  return new EngineError(
    "device_revoked",
    `this device was revoked from your account (${revokedAt ?? "just now"}), so it no longer syncs. Its library and queued changes stay on this computer. To sync again, bind it anew: chorus-device signin --profile ${profileName} --web-url ${webUrl ?? "<url of the Chorus web app>"}`,
    { revokedAt, profile: profileName, webUrl: webUrl ?? null },
  );
}

export function readAccount(db: SqliteDatabase, signedIn: boolean): Account | null {
  const userId = readMeta(db, "user_id");
  const syncUrl = readMeta(db, "server_url");
  if (!userId || !syncUrl) return null;
  return {
    userId,
    email: readMeta(db, "email") ?? null,
    webUrl: readMeta(db, "web_url") ?? null,
    syncUrl,
    signedIn,
  };
}

/** Forgets the account binding (sign-out): who, where, the last sync and any revocation. */
export function clearAccount(db: SqliteDatabase): void {
  db.transaction(() => {
    for (const key of [
      "user_id",
      "email",
      "server_url",
      "web_url",
      "last_sync_at",
      "revoked_at",
    ] as const) {
      deleteMeta(db, key);
    }
  })();
}

/** The session the stored credential gives, or null (not bound, no credential, revoked). */
export function restoreSession(
  db: SqliteDatabase,
  tokens: TokenStore,
  deviceId: string,
  callbacks: SessionCallbacks,
): SyncSession | null {
  const userId = readMeta(db, "user_id");
  const syncUrl = readMeta(db, "server_url");
  const credential = tokens.load();
  if (!userId || !syncUrl || !credential || readRevokedAt(db)) return null;
  const binding = {
    syncUrl,
    userId,
    deviceId,
    email: readMeta(db, "email") ?? null,
  };
  if (credential.kind === "static") {
    return staticSession({ ...binding, token: credential.accessToken });
  }
  return refreshingSession({
    binding: { ...binding, webUrl: credential.webUrl },
    store: tokens,
    onSignedOut: callbacks.onSignedOut,
    onRevoked: callbacks.onRevoked,
    ...(callbacks.fetch ? { fetch: callbacks.fetch } : {}),
  });
}

/** The session of a browser sign-in: what the token endpoint answered, refreshed from then on. */
export function sessionFromTokens(
  webUrl: string,
  tokenResponse: TokenResponse,
  tokens: TokenStore,
  callbacks: SessionCallbacks,
): SyncSession {
  return refreshingSession({
    binding: {
      syncUrl: tokenResponse.sync_url,
      userId: tokenResponse.user_id,
      deviceId: tokenResponse.device_id,
      email: tokenResponse.email ?? null,
      webUrl,
    },
    store: tokens,
    initial: {
      accessToken: tokenResponse.access_token,
      expiresAt: Date.now() + tokenResponse.expires_in * 1000,
    },
    onSignedOut: callbacks.onSignedOut,
    onRevoked: callbacks.onRevoked,
    ...(callbacks.fetch ? { fetch: callbacks.fetch } : {}),
  });
}
