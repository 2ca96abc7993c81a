import { statSync } from "node:fs";
import { join } from "node:path";
import {
  CREDENTIALS_FILE,
  EngineError,
  fileTokenStore,
  memoryTokenStore,
  refreshingSession,
} from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";
import { FakeWeb } from "../support/fake-web.js";

let backend: TestBackend;
let fleet: EngineFleet;
let web: FakeWeb | undefined;
beforeAll(async () => {
  backend = await TestBackend.start();
});
afterAll(async () => {
  await backend?.close();
});
afterEach(async () => {
  await web?.close();
  web = undefined;
  await fleet?.close();
});

async function setUp(expiresIn = 600) {
  fleet = new EngineFleet();
  const started = await FakeWeb.forNewAccount(backend, expiresIn);
  web = started.web;
  return started;
}

describe("browser sign-in (ADR 0002)", () => {
  it("binds through the loopback redirect with PKCE, stores the refresh token in a 0600 file and syncs", async () => {
    const { account, web } = await setUp();
    const engine = fleet.open("laptop", { tokenStore: undefined });
    let opened = "";
    const account1 = await engine.signInWithBrowser({
      webUrl: web.url,
      platform: "linux",
      appVersion: "0.1.0",
      openUrl: async (url) => {
        opened = url;
        // A stale tab with another state is refused, and the sign-in keeps waiting. The tab is
        // sent to the web app's localized page that says how it ended.
        const forged = await web.approve(url, { state: "forged" });
        expect(forged.status).toBe(303);
        expect(forged.headers.get("location")).toBe(`${web.url}/desktop-login/done?result=refused`);
        const approved = await web.approve(url);
        expect(approved.status).toBe(303);
        expect(approved.headers.get("location")).toBe(
          `${web.url}/desktop-login/done?result=connected`,
        );
      },
    });
    const login = new URL(opened);
    expect(login.pathname).toBe("/desktop-login");
    expect(login.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(login.searchParams.get("state")?.length).toBeGreaterThanOrEqual(32);
    expect(account1).toMatchObject({
      userId: account.userId,
      email: "ada@example.test",
      signedIn: true,
    });

    const file = join(engine.profile.dir, CREDENTIALS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(fileTokenStore(engine.profile.dir).load()).toMatchObject({
      kind: "refresh",
      webUrl: web.url,
    });

    await engine.start();
    const { id } = await engine.createPlaylist("Signed in");
    const other = fleet.open("other");
    await other.bind((await account.device("other")).session);
    await other.start();
    await waitUntil("the edit on another device", () => other.playlist(id) !== null);

    // Signing out revokes the refresh token on the server (RFC 7009) and forgets it here.
    const stored = fileTokenStore(engine.profile.dir).load();
    expect(await engine.signOut()).toEqual({ revokedOnServer: true });
    expect(stored?.kind === "refresh" && web.revoked).toEqual([
      stored?.kind === "refresh" ? stored.refreshToken : "",
    ]);
    expect(fileTokenStore(engine.profile.dir).load()).toBeNull();
  });

  it("a declined consent fails with a message and binds nothing", async () => {
    const { web } = await setUp();
    const engine = fleet.open("laptop");
    await expect(
      engine.signInWithBrowser({
        webUrl: web.url,
        platform: "linux",
        appVersion: "0.1.0",
        openUrl: async (url) => {
          const declined = await web.approve(url, { deny: true });
          expect(declined.headers.get("location")).toBe(
            `${web.url}/desktop-login/done?result=declined`,
          );
        },
      }),
    ).rejects.toMatchObject({
      code: "sign_in_failed",
      message: expect.stringContaining("declined"),
    });
    expect(engine.account()).toBeNull();
  });
});

describe("refreshing session", () => {
  it("refreshes before expiry and after a 401, rotating and storing the refresh token; a refused refresh signs out", async () => {
    const { account, web } = await setUp(30);
    const store = memoryTokenStore();
    const engine = fleet.open("laptop", { tokenStore: store });
    await engine.signInWithBrowser({
      webUrl: web.url,
      platform: "linux",
      appVersion: "0.1.0",
      openUrl: async (url) => void (await web.approve(url)),
    });
    const firstRefresh = store.load();
    let signedOut = "";
    const session = refreshingSession({
      binding: {
        syncUrl: backend.syncUrl,
        userId: account.userId,
        deviceId: "unused",
        email: null,
        webUrl: web.url,
      },
      store,
      onSignedOut: (reason) => {
        signedOut = reason;
      },
    });
    // expires_in (30 s) is inside the 60 s margin: every call refreshes, and each rotates.
    await session.accessToken();
    const second = store.load();
    expect(second).not.toEqual(firstRefresh);
    session.tokenRejected();
    await session.accessToken();
    expect(store.load()).not.toEqual(second);
    expect(web.grants.filter((g) => g === "refresh_token")).toHaveLength(2);

    web.revokeAll();
    await expect(session.accessToken()).rejects.toBeInstanceOf(EngineError);
    expect(store.load()).toBeNull();
    expect(signedOut).toContain("invalid_grant");
  });
});
