import { EngineError } from "../errors.js";
import type { SyncSession } from "../sync/session.js";
import { type Fetch, refreshTokens } from "./token-endpoint.js";
import type { TokenStore } from "./token-store.js";

export interface Binding {
  syncUrl: string;
  userId: string;
  deviceId: string;
  email: string | null;
  webUrl: string;
}

export interface RefreshingSessionOptions {
  binding: Binding;
  store: TokenStore;
  /** The access token the sign-in just returned, if any. */
  initial?: { accessToken: string; expiresAt: number };
  /** Refresh this long before the access token expires (default 60 s). */
  marginMs?: number;
  /** The refresh token was refused (rotated elsewhere, device revoked): sign in again. */
  onSignedOut?(reason: string): void;
  /** The web app said the account revoked this device: final until a new sign-in. */
  onRevoked?(reason: string): void;
  fetch?: Fetch;
  now?: () => number;
}

/**
 * An account session from a browser sign-in: access tokens in memory, refreshed shortly
 * before they expire and after a 401; each refresh rotates the refresh token, and the new
 * one is stored before it is used (ADR 0002 §4). Concurrent callers share one refresh.
 */
export function refreshingSession(options: RefreshingSessionOptions): SyncSession {
  const { binding, store } = options;
  const now = options.now ?? Date.now;
  const margin = options.marginMs ?? 60_000;
  let current = options.initial ?? null;
  let inFlight: Promise<string> | null = null;

  async function refresh(): Promise<string> {
    const credential = store.load();
    if (credential?.kind !== "refresh") {
      throw new EngineError(
        "not_signed_in",
        "this profile is not signed in; sign in through the browser",
        {},
      );
    }
    try {
      const tokens = await refreshTokens(
        { webUrl: credential.webUrl, refreshToken: credential.refreshToken },
        options.fetch,
      );
      store.save({
        kind: "refresh",
        refreshToken: tokens.refresh_token,
        webUrl: credential.webUrl,
      });
      current = { accessToken: tokens.access_token, expiresAt: now() + tokens.expires_in * 1000 };
      return tokens.access_token;
    } catch (error) {
      if (error instanceof EngineError && error.code === "not_signed_in") {
        store.clear();
        options.onSignedOut?.(error.message);
      }
      if (error instanceof EngineError && error.code === "device_revoked") {
        store.clear();
        options.onRevoked?.(error.message);
      }
      throw error;
    }
  }

  return {
    syncUrl: binding.syncUrl.replace(/\/+$/, ""),
    userId: binding.userId,
    deviceId: binding.deviceId,
    email: binding.email,
    webUrl: binding.webUrl,
    async accessToken() {
      if (current && current.expiresAt - margin > now()) return current.accessToken;
      inFlight ??= refresh().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    tokenRejected() {
      current = null;
    },
  };
}
