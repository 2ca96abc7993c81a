/**
 * What the engine needs of an account to talk to the sync server: where it is, who this
 * device is there, and a way to get a valid access token. Browser sign-in builds one that
 * refreshes (auth/refreshing-session.ts); tests and scripts may inject a static one.
 */
export interface SyncSession {
  /** The sync server's base URL, e.g. http://127.0.0.1:4000 (no /trpc). */
  readonly syncUrl: string;
  readonly userId: string;
  /** The device id the server knows this profile by (the token's `did`). */
  readonly deviceId: string;
  readonly email: string | null;
  /** The web app the profile signed in through; null for an injected token. */
  readonly webUrl: string | null;
  /** A token valid for a while yet; refreshes when close to expiry. */
  accessToken(): Promise<string>;
  /** The server answered 401: drop the cached token so the next call gets a fresh one. */
  tokenRejected(): void;
}

/** A session with a fixed token (tests, scripts, the dev harness before the web sign-in). */
export function staticSession(options: {
  syncUrl: string;
  userId: string;
  deviceId: string;
  token: string | (() => string | Promise<string>);
  email?: string | null;
}): SyncSession {
  const { token } = options;
  return {
    syncUrl: options.syncUrl.replace(/\/+$/, ""),
    userId: options.userId,
    deviceId: options.deviceId,
    email: options.email ?? null,
    webUrl: null,
    accessToken: async () => (typeof token === "function" ? await token() : token),
    tokenRejected: () => {},
  };
}

/** Reads `sub` and `did` from a device token without verifying it (the server verifies). */
export function tokenClaims(token: string): {
  userId: string;
  deviceId: string;
  expiresAt: number | null;
} {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("not a JWT: expected three dot-separated parts");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
  if (typeof claims.sub !== "string" || typeof claims.did !== "string") {
    throw new Error("not a device token: it has no sub and did claims");
  }
  return {
    userId: claims.sub,
    deviceId: claims.did,
    expiresAt: typeof claims.exp === "number" ? claims.exp * 1000 : null,
  };
}
