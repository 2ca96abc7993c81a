import { WebSocket } from "ws";
import {
  exchangeCode,
  expect,
  SYNC_URL,
  signInThroughUi,
  signOutThroughUi,
  signUpThroughUi,
  test,
  WEB_URL,
} from "./fixtures";

/*
 * Edges an attacker or an unlucky user meets, through the real web app and sync server.
 */
const OWN_ORIGIN = new URL(WEB_URL).origin;
const HOSTILE_CALLBACK = "/en/sign-in?callbackUrl=%2F%09%2Fevil.com";

test.describe("security edges", () => {
  test("open redirect after sign-in through a tab in callbackUrl stays on the site", async ({
    page,
  }) => {
    const credentials = await signUpThroughUi(page);
    // Signed in, the sign-in page sends the browser on at once: to our own origin.
    const direct = await page.request.get(HOSTILE_CALLBACK, { maxRedirects: 0 });
    expect(direct.status()).toBeGreaterThanOrEqual(300);
    expect(direct.status()).toBeLessThan(400);
    const location = direct.headers().location ?? "";
    expect(new URL(location, WEB_URL).origin).toBe(OWN_ORIGIN);

    // Signed out, through the form: the browser ends on /en/account, not on evil.com.
    await signOutThroughUi(page);
    await page.goto(HOSTILE_CALLBACK);
    await signInThroughUi(page, credentials, { goto: false });
    await expect(page).toHaveURL(`${OWN_ORIGIN}/en/account`);
  });

  test("desktop sign-out closes the device's open socket at once", async ({
    page,
    request,
    desktop,
  }) => {
    await signUpThroughUi(page);
    await page.goto(desktop.loginPath());
    await page.getByTestId("consent-approve").click();
    const callback = await desktop.callback();
    const tokens = await exchangeCode(request, desktop, callback.code ?? "");

    // The desktop's live subscription, as its engine opens it (tRPC over the WebSocket).
    const socket = new WebSocket(`${SYNC_URL.replace(/^http/, "ws")}/trpc?connectionParams=1`);
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    const started = new Promise<void>((resolve, reject) => {
      socket.on("message", (data) => {
        const message = JSON.parse(String(data)) as { id?: number; result?: { type?: string } };
        if (message.id === 1 && message.result?.type === "started") resolve();
      });
      socket.once("close", (code) => reject(new Error(`closed (${code}) before it started`)));
    });
    socket.once("open", () => {
      socket.send(
        JSON.stringify({ method: "connectionParams", data: { token: tokens.access_token } }),
      );
      socket.send(
        JSON.stringify({
          id: 1,
          method: "subscription",
          params: { path: "sync.subscribe", input: { lastEventId: 0 } },
        }),
      );
    });
    await started;

    // "Sign out" on the desktop: RFC 7009 revocation of its refresh token at the web app.
    const revoked = await request.post("/api/desktop/revoke", {
      form: { token: tokens.refresh_token },
    });
    expect(revoked.status()).toBe(200);
    expect(await closed).toBe(4003);
  });
});
