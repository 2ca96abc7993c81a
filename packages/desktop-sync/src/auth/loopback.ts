import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  codeChallengeS256,
  generateCodeVerifier,
  generateOAuthState,
  isLoopbackRedirectUri,
} from "@chorus/auth";
import { EngineError } from "../errors.js";
import { exchangeCode, type Fetch, type TokenResponse } from "./token-endpoint.js";

export interface BrowserSignInOptions {
  webUrl: string;
  /** Shown on the consent screen (1..80 characters). */
  deviceName: string;
  platform: string;
  appVersion: string;
  /** Opens the URL in the system browser (Electron: shell.openExternal; CLI: print it). */
  openUrl(url: string): void | Promise<void>;
  /** How long to wait for the browser to come back (default 5 min, ADR 0002 §1). */
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: Fetch;
}

export interface BrowserSignInResult {
  tokens: TokenResponse;
  redirectUri: string;
}

/** How the sign-in ended, as the web app's /desktop-login/done page words it. */
export type SignInResult = "connected" | "declined" | "failed" | "refused";

/** The web app's page that tells the user, in their language, that the tab can be closed. */
export function desktopLoginDoneUrl(webUrl: string, result: SignInResult): string {
  const url = new URL("/desktop-login/done", webUrl);
  url.searchParams.set("result", result);
  return url.toString();
}

/** The authorization URL of ADR 0002 §1. */
export function desktopLoginUrl(options: {
  webUrl: string;
  redirectUri: string;
  state: string;
  challenge: string;
  deviceName: string;
  platform: string;
  appVersion: string;
}): string {
  const url = new URL("/desktop-login", options.webUrl);
  url.search = new URLSearchParams({
    redirect_uri: options.redirectUri,
    state: options.state,
    code_challenge: options.challenge,
    code_challenge_method: "S256",
    device_name: options.deviceName.slice(0, 80) || "Chorus desktop",
    platform: options.platform,
    app_version: options.appVersion,
  }).toString();
  return url.toString();
}

/**
 * RFC 8252 loopback sign-in (ADR 0002): listens on 127.0.0.1 on a port the OS picks, opens
 * the browser at {WEB_URL}/desktop-login with PKCE (S256) and `state`, accepts exactly one
 * callback with the matching state, exchanges the code (with the verifier) at the token
 * endpoint, then sends the tab to the web app's /desktop-login/done page, which says in the
 * user's language how it ended. The listener is closed on every path.
 */
export async function signInWithBrowser(
  options: BrowserSignInOptions,
): Promise<BrowserSignInResult> {
  const verifier = generateCodeVerifier();
  const state = generateOAuthState();
  let settle: { resolve(code: string): void; reject(error: Error): void } | undefined;
  const callback = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  /** The browser's callback request, answered once the code exchange has ended. */
  let waiting: ServerResponse | null = null;
  const sendBrowserTo = (res: ServerResponse, result: SignInResult) =>
    new Promise<void>((resolve) => {
      res.once("close", resolve);
      res
        .writeHead(303, {
          location: desktopLoginDoneUrl(options.webUrl, result),
          "cache-control": "no-store",
        })
        .end(resolve);
    });
  // Awaited below, after openUrl returns; the browser may answer (or fail) before that.
  callback.catch(() => {});

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/callback") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    if (url.searchParams.get("state") !== state || waiting) {
      // Not our sign-in (a stale tab, a forged or repeated request): refuse, and keep waiting.
      void sendBrowserTo(res, "refused");
      return;
    }
    const error = url.searchParams.get("error");
    const code = url.searchParams.get("code");
    if (error || !code) {
      void sendBrowserTo(res, "declined");
      settle?.reject(
        new EngineError(
          "sign_in_failed",
          error === "access_denied"
            ? "the sign-in was declined in the browser"
            : `the browser returned ${error ?? "no code"}`,
          { oauthError: error },
        ),
      );
      return;
    }
    waiting = res;
    settle?.resolve(code);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  if (!isLoopbackRedirectUri(redirectUri)) throw new Error(`bad loopback redirect ${redirectUri}`);

  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const timer = setTimeout(
    () =>
      settle?.reject(
        new EngineError(
          "sign_in_failed",
          `no answer from the browser within ${Math.round(timeoutMs / 1000)} s; start the sign-in again`,
          {},
        ),
      ),
    timeoutMs,
  );
  const onAbort = () =>
    settle?.reject(new EngineError("sign_in_failed", "the sign-in was cancelled", {}));
  options.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    // Not awaited before the callback: an opener may only return once the browser is done.
    const opening = Promise.resolve().then(() =>
      options.openUrl(
        desktopLoginUrl({
          webUrl: options.webUrl,
          redirectUri,
          state,
          challenge: codeChallengeS256(verifier),
          deviceName: options.deviceName,
          platform: options.platform,
          appVersion: options.appVersion,
        }),
      ),
    );
    opening.catch((error: unknown) =>
      settle?.reject(error instanceof Error ? error : new Error(String(error))),
    );
    const code = await callback;
    let tokens: TokenResponse;
    try {
      tokens = await exchangeCode(
        { webUrl: options.webUrl, code, verifier, redirectUri },
        options.fetch,
      );
    } catch (error) {
      if (waiting) await sendBrowserTo(waiting, "failed");
      throw error;
    }
    if (waiting) await sendBrowserTo(waiting, "connected");
    await opening;
    return { tokens, redirectUri };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
