/*
 * The browser's short-lived `kind=web` token for the sync server (ADR 0002 §6), fetched from
 * /api/sync-token and reused until shortly before it expires. A 401 from the sync server
 * invalidates it so the next call fetches a fresh one.
 */

export interface SyncTokenResponse {
  token: string;
  expiresAt: string;
  syncUrl: string;
}

/** The web session is gone: the page must send the user to sign in again. */
export class SessionEndedError extends Error {
  override name = "SessionEndedError";
}

/** Renew this long before expiry, so a token never dies in flight. */
export const RENEW_BEFORE_MS = 30_000;

export interface SyncTokenSource {
  get(): Promise<string>;
  invalidate(): void;
}

export function createSyncTokenSource(
  fetchToken: () => Promise<Response> = () =>
    fetch("/api/sync-token", { cache: "no-store", credentials: "same-origin" }),
  now: () => number = Date.now,
): SyncTokenSource {
  let current: { token: string; renewAt: number } | null = null;
  let inflight: Promise<string> | null = null;

  async function load(): Promise<string> {
    const response = await fetchToken();
    if (response.status === 401) throw new SessionEndedError("the web session has ended");
    if (!response.ok) throw new Error(`could not get a sync token (HTTP ${response.status})`);
    const body = (await response.json()) as SyncTokenResponse;
    current = { token: body.token, renewAt: Date.parse(body.expiresAt) - RENEW_BEFORE_MS };
    return body.token;
  }

  return {
    get() {
      if (current && now() < current.renewAt) return Promise.resolve(current.token);
      inflight ??= load().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    invalidate() {
      current = null;
    },
  };
}
