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

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto">` +
  `<h1>${title}</h1><p>${body}</p></body></html>`;

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
 * callback with the matching state, answers the tab, and exchanges the code (with the
 * verifier) at the token endpoint. The listener is closed on every path.
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
  // Awaited below, after openUrl returns; the browser may answer (or fail) before that.
  callback.catch(() => {});

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/callback") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const answer = (status: number, title: string, body: string) =>
      res
        .writeHead(status, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
        })
        .end(page(title, body));
    if (url.searchParams.get("state") !== state) {
      // Not our sign-in (a stale tab, or a forged request): refuse, and keep waiting.
      answer(
        400,
        "Sign-in refused",
        "This sign-in link does not match the one Chorus opened. Start again from the app.",
      );
      return;
    }
    const error = url.searchParams.get("error");
    const code = url.searchParams.get("code");
    if (error || !code) {
      answer(200, "Sign-in cancelled", "Chorus was not connected. You can close this tab.");
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
    answer(200, "Chorus is connected", "You can close this tab and return to Chorus.");
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
    await options.openUrl(
      desktopLoginUrl({
        webUrl: options.webUrl,
        redirectUri,
        state,
        challenge: codeChallengeS256(verifier),
        deviceName: options.deviceName,
        platform: options.platform,
        appVersion: options.appVersion,
      }),
    );
    const code = await callback;
    const tokens = await exchangeCode(
      { webUrl: options.webUrl, code, verifier, redirectUri },
      options.fetch,
    );
    return { tokens, redirectUri };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
