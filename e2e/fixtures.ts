import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  codeChallengeS256,
  generateCodeVerifier,
  generateOAuthState,
  TokenEndpointResponse,
} from "@chorus/auth";
import {
  type APIRequestContext,
  type Browser,
  test as base,
  expect,
  type Page,
  type TestInfo,
} from "@playwright/test";
import { E2eDatabase } from "./support/database.ts";
import { HeadlessDevice, type HeadlessDeviceOptions } from "./support/headless-device.ts";
import { SYNC_URL, WEB_URL } from "./support/system.ts";

/*
 * Fixtures for browser flows against the real system (see e2e/README.md). Import `test` and
 * `expect` from here instead of @playwright/test.
 */

export { E2eDatabase, HeadlessDevice, SYNC_URL, WEB_URL };

export interface Credentials {
  email: string;
  password: string;
  name?: string;
}

/** A new, unique account's credentials (not yet signed up). */
export function newCredentials(overrides: Partial<Credentials> = {}): Credentials {
  return {
    email: `qa-${randomUUID().slice(0, 8)}@example.test`,
    password: "correct horse battery",
    name: "QA Tester",
    ...overrides,
  };
}

/**
 * Signs up through the UI, then signs in (sign-up only says "check your inbox", the same for
 * every address); ends signed in, on /{locale}/account, with the address not yet confirmed.
 */
export async function signUpThroughUi(
  page: Page,
  credentials: Credentials = newCredentials(),
  locale = "en",
): Promise<Credentials> {
  await page.goto(`/${locale}/sign-up`);
  await expect(page.locator("[data-testid=sign-up-form][data-ready]")).toBeVisible();
  if (credentials.name) await page.getByTestId("sign-up-name").fill(credentials.name);
  await page.getByTestId("sign-up-email").fill(credentials.email);
  await page.getByTestId("sign-up-password").fill(credentials.password);
  await page.getByTestId("sign-up-submit").click();
  await expect(page.getByTestId("sign-up-check-inbox")).toBeVisible();
  await signInThroughUi(page, credentials, { locale });
  await expect(page).toHaveURL(new RegExp(`/${locale}/account$`));
  return credentials;
}

/** Signs in through the UI from the sign-in page (or wherever the app sent the browser). */
export async function signInThroughUi(
  page: Page,
  credentials: Credentials,
  options: { goto?: boolean; locale?: string } = {},
): Promise<void> {
  if (options.goto ?? true) await page.goto(`/${options.locale ?? "en"}/sign-in`);
  await expect(page.locator("[data-testid=sign-in-form][data-ready]")).toBeVisible();
  await page.getByTestId("sign-in-email").fill(credentials.email);
  await page.getByTestId("sign-in-password").fill(credentials.password);
  await page.getByTestId("sign-in-submit").click();
}

/** Signs out through the header's session menu; ends on the landing page. */
export async function signOutThroughUi(page: Page): Promise<void> {
  await page.getByTestId("session-menu").click();
  await page.getByTestId("sign-out").click();
  await expect(page.getByTestId("header-sign-in")).toBeVisible();
}

/** A full-page screenshot attached to the test report (and kept in its output folder). */
export async function attachScreenshot(page: Page, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(`${name}.png`);
  // From the top: a sticky header would otherwise be drawn where the page was scrolled to.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** What the loopback listener received on /callback. */
export interface LoopbackCallback {
  code: string | null;
  state: string | null;
  error: string | null;
}

/**
 * The desktop side of ADR 0002: a real HTTP listener on 127.0.0.1 (OS-chosen port, path
 * /callback) with a fresh PKCE verifier and state, as packages/desktop-sync's sign-in does.
 */
export interface LoopbackDesktop {
  readonly redirectUri: string;
  readonly state: string;
  readonly verifier: string;
  readonly challenge: string;
  /** The /desktop-login path the desktop would open in the browser. */
  loginPath(overrides?: Record<string, string>, locale?: string): string;
  /** Resolves with the first request the browser makes to /callback. */
  callback(): Promise<LoopbackCallback>;
  close(): Promise<void>;
}

export async function startLoopbackDesktop(
  device: { name?: string; platform?: string; appVersion?: string } = {},
): Promise<LoopbackDesktop> {
  const verifier = generateCodeVerifier();
  const challenge = codeChallengeS256(verifier);
  const state = generateOAuthState();
  let deliver: (callback: LoopbackCallback) => void = () => {};
  const received = new Promise<LoopbackCallback>((resolve) => {
    deliver = resolve;
  });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/callback") {
      res.writeHead(404).end();
      return;
    }
    const callback = {
      code: url.searchParams.get("code"),
      state: url.searchParams.get("state"),
      error: url.searchParams.get("error"),
    };
    // The engine refuses a callback whose state differs from the one it sent.
    const ok = callback.state === state;
    res
      .writeHead(ok ? 200 : 400, { "content-type": "text/html; charset=utf-8" })
      .end(
        ok
          ? "<!doctype html><title>Chorus</title><p data-testid=loopback-done>You can close this tab.</p>"
          : "<!doctype html><title>Chorus</title><p data-testid=loopback-bad-state>State mismatch.</p>",
      );
    deliver(callback);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  return {
    redirectUri,
    state,
    verifier,
    challenge,
    loginPath(overrides = {}, locale = "en") {
      const query = new URLSearchParams({
        redirect_uri: redirectUri,
        state,
        code_challenge: challenge,
        code_challenge_method: "S256",
        device_name: device.name ?? "QA Desktop",
        platform: device.platform ?? "linux",
        app_version: device.appVersion ?? "1.0.0",
        ...overrides,
      });
      return `/${locale}/desktop-login?${query}`;
    },
    callback: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POST /api/desktop/token; returns the status and the JSON body. */
export async function tokenRequest(
  request: APIRequestContext,
  body: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request.post("/api/desktop/token", { data: body });
  return { status: response.status(), body: await response.json() };
}

/** Exchanges the code the loopback listener received, exactly as the engine does. */
export async function exchangeCode(
  request: APIRequestContext,
  desktop: LoopbackDesktop,
  code: string,
): Promise<TokenEndpointResponse> {
  const { status, body } = await tokenRequest(request, {
    grant_type: "authorization_code",
    code,
    code_verifier: desktop.verifier,
    redirect_uri: desktop.redirectUri,
  });
  expect(status, JSON.stringify(body)).toBe(200);
  return TokenEndpointResponse.parse(body);
}

/** sync.pull over HTTP with a bearer token; returns the HTTP status. */
export async function syncPullStatus(request: APIRequestContext, token: string): Promise<number> {
  const input = encodeURIComponent(JSON.stringify({ since: 0 }));
  const response = await request.get(`${SYNC_URL}/trpc/sync.pull?input=${input}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return response.status();
}

/** A `kind=web` token for the browser's session (what the console's tRPC client sends). */
export async function webSyncToken(page: Page): Promise<string> {
  const response = await page.request.get("/api/sync-token");
  expect(response.status()).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** Any tRPC query of the sync server over HTTP with a bearer token: status and JSON body. */
export async function trpcQuery(
  request: APIRequestContext,
  token: string,
  path: string,
  input: unknown = {},
): Promise<{ status: number; body: { error?: { data?: { code?: string } }; result?: unknown } }> {
  const query = encodeURIComponent(JSON.stringify(input));
  const response = await request.get(`${SYNC_URL}/trpc/${path}?input=${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status(), body: await response.json() };
}

/** Someone who owns headless devices: a fresh account signed in in a browser context of its own. */
export interface DeviceOwner {
  credentials: Credentials;
  userId: string;
  /** The owner's own browser tab (it approves the devices' sign-ins). */
  page: Page;
  /** A new headless engine bound to this account through /desktop-login; it ends online. */
  bindDevice(name: string, options?: Omit<HeadlessDeviceOptions, "name">): Promise<HeadlessDevice>;
}

/** Makes device owners and their headless devices; closes all of them after the test. */
export interface HeadlessFleet {
  newOwner(credentials?: Credentials): Promise<DeviceOwner>;
}

function headlessFleet(browser: Browser, db: E2eDatabase) {
  const devices: HeadlessDevice[] = [];
  const contexts: Array<{ close(): Promise<void> }> = [];
  const fleet: HeadlessFleet = {
    async newOwner(credentials = newCredentials({ name: "Device Owner" })) {
      const context = await browser.newContext({ baseURL: WEB_URL, locale: "en-US" });
      contexts.push(context);
      const page = await context.newPage();
      await signUpThroughUi(page, credentials);
      const userId = await db.userIdOf(credentials.email);
      return {
        credentials,
        userId,
        page,
        async bindDevice(name, options = {}) {
          const device = await HeadlessDevice.signIn(page, WEB_URL, { ...options, name });
          devices.push(device);
          return device;
        },
      };
    },
  };
  return {
    fleet,
    async close() {
      await Promise.all(devices.map((device) => device.close()));
      await Promise.all(contexts.map((context) => context.close()));
    },
  };
}

type Fixtures = {
  /** A signed-up account, signed in on `page` (on /en/account). */
  account: Credentials;
  /** A fresh administrator, signed in on `page` (on /en/account). */
  admin: Credentials;
  /** A loopback listener acting as the desktop app; closed after the test. */
  desktop: LoopbackDesktop;
  /** The e2e system's PostgreSQL (closed after the test). */
  db: E2eDatabase;
  /** Device owners and their headless engines (closed after the test). */
  devices: HeadlessFleet;
};

export const test = base.extend<Fixtures>({
  account: async ({ page }, use) => {
    await use(await signUpThroughUi(page));
  },
  admin: async ({ page, db }, use) => {
    // Signed up, promoted in the database (as `npm run promote-admin` does), then signed in
    // again so the session (and the header's menu) carries the role from the start.
    const credentials = await signUpThroughUi(page, newCredentials({ name: "QA Admin" }));
    await db.promoteToAdmin(credentials.email);
    await signOutThroughUi(page);
    await signInThroughUi(page, credentials);
    await expect(page).toHaveURL(/\/en\/account$/);
    await use(credentials);
  },
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads the fixtures a fixture uses from this pattern.
  db: async ({}, use) => {
    const db = E2eDatabase.connect();
    await use(db);
    await db.close();
  },
  devices: async ({ browser, db }, use) => {
    const { fleet, close } = headlessFleet(browser, db);
    await use(fleet);
    await close();
  },
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads the fixtures a fixture uses from this pattern.
  desktop: async ({}, use) => {
    const desktop = await startLoopbackDesktop();
    await use(desktop);
    await desktop.close();
  },
});

export { expect };
