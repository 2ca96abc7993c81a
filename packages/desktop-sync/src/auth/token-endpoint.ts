import { TokenEndpointResponse } from "@chorus/auth";
import { z } from "zod";
import { EngineError } from "../errors.js";

/** The token endpoint's 200 answer: one schema, shared with the web app that builds it. */
export const TokenResponse = TokenEndpointResponse;
export type TokenResponse = TokenEndpointResponse;

const OAuthError = z.object({
  error: z.string(),
  error_description: z.string().optional(),
  /** Chorus's extension: "device_revoked" when the account revoked this device. */
  reason: z.string().optional(),
});

export type Fetch = typeof fetch;

export function tokenEndpoint(webUrl: string): string {
  return `${webUrl.replace(/\/+$/, "")}/api/desktop/token`;
}

/**
 * POSTs one grant to {WEB_URL}/api/desktop/token. An OAuth error (400 invalid_grant, ...)
 * becomes an EngineError whose details carry `oauthError`, so callers can tell "sign in
 * again" (invalid_grant) from "try later" (the web app is down: code `offline`).
 */
async function postGrant(
  webUrl: string,
  body: Record<string, string>,
  fetchImpl: Fetch,
): Promise<TokenResponse> {
  let response: Response;
  try {
    response = await fetchImpl(tokenEndpoint(webUrl), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new EngineError(
      "offline",
      `the web app at ${webUrl} cannot be reached: ${String(error)}`,
      {
        webUrl,
      },
    );
  }
  const payload: unknown = await response.json().catch(() => null);
  if (response.ok) {
    const parsed = TokenResponse.safeParse(payload);
    if (parsed.success) return parsed.data;
    throw new EngineError(
      "sign_in_failed",
      "the token endpoint answered with an unexpected shape",
      {
        issues: parsed.error.issues.map((issue) => issue.message),
      },
    );
  }
  const oauth = OAuthError.safeParse(payload);
  const description = oauth.success
    ? `${oauth.data.error}${oauth.data.error_description ? `: ${oauth.data.error_description}` : ""}`
    : `HTTP ${response.status}`;
  if (response.status >= 500) {
    throw new EngineError("offline", `the web app failed (${description}); try again later`, {
      status: response.status,
    });
  }
  if (
    oauth.success &&
    oauth.data.error === "invalid_grant" &&
    oauth.data.reason === "device_revoked"
  ) {
    throw new EngineError("device_revoked", `this device was revoked (${description})`, {
      status: response.status,
      oauthError: oauth.data.error,
    });
  }
  throw new EngineError(
    oauth.success && oauth.data.error === "invalid_grant" ? "not_signed_in" : "sign_in_failed",
    `the web app refused the ${body.grant_type === "refresh_token" ? "refresh" : "sign-in"} (${description})`,
    { status: response.status, oauthError: oauth.success ? oauth.data.error : null },
  );
}

export function exchangeCode(
  options: { webUrl: string; code: string; verifier: string; redirectUri: string },
  fetchImpl: Fetch = fetch,
): Promise<TokenResponse> {
  return postGrant(
    options.webUrl,
    {
      grant_type: "authorization_code",
      code: options.code,
      code_verifier: options.verifier,
      redirect_uri: options.redirectUri,
    },
    fetchImpl,
  );
}

export function refreshTokens(
  options: { webUrl: string; refreshToken: string },
  fetchImpl: Fetch = fetch,
): Promise<TokenResponse> {
  return postGrant(
    options.webUrl,
    { grant_type: "refresh_token", refresh_token: options.refreshToken },
    fetchImpl,
  );
}

/**
 * RFC 7009: asks the web app to revoke the refresh token (ADR 0002 §7), which also ends this
 * device's binding on the server. Best effort: resolves false when the web app cannot be
 * reached or refuses, so signing out works offline too.
 */
export async function revokeRefreshToken(
  options: { webUrl: string; refreshToken: string },
  fetchImpl: Fetch = fetch,
): Promise<boolean> {
  try {
    const response = await fetchImpl(`${options.webUrl.replace(/\/+$/, "")}/api/desktop/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: options.refreshToken, token_type_hint: "refresh_token" }),
      signal: AbortSignal.timeout(5_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
