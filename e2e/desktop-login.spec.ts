import {
  attachScreenshot,
  exchangeCode,
  expect,
  signInThroughUi,
  signOutThroughUi,
  signUpThroughUi,
  syncPullStatus,
  test,
  tokenRequest,
} from "./fixtures";

test.describe("binding a desktop through the browser (ADR 0002)", () => {
  test("sign up, sign out, sign in from the desktop's request, approve, exchange, see it in /account, revoke it", async ({
    page,
    request,
    desktop,
  }, testInfo) => {
    const credentials = await signUpThroughUi(page);
    await expect(page.getByTestId("devices-empty")).toBeVisible();
    await signOutThroughUi(page);

    // The desktop opens the browser at /desktop-login; signed out, the user signs in first.
    await page.goto(desktop.loginPath());
    await expect(page).toHaveURL(/\/en\/sign-in\?callbackUrl=%2Fen%2Fdesktop-login/);
    await expect(page.getByTestId("desktop-sign-in-notice")).toBeVisible();
    await attachScreenshot(page, testInfo, "sign-in-en");
    await signInThroughUi(page, credentials, { goto: false });

    // ... and comes back to the consent screen, which names the desktop and the account.
    await expect(page.getByTestId("consent")).toBeVisible();
    await expect(page).toHaveURL(/\/en\/desktop-login\?/);
    await expect(page.getByTestId("consent-device")).toHaveText("QA Desktop");
    await expect(page.getByTestId("consent-platform")).toHaveText("Linux");
    await expect(page.getByTestId("consent-account")).toHaveText(credentials.email);
    await attachScreenshot(page, testInfo, "consent-en");

    await page.getByTestId("consent-approve").click();
    const callback = await desktop.callback();
    expect(callback.state).toBe(desktop.state);
    expect(callback.error).toBeNull();
    expect(callback.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(page.getByTestId("loopback-done")).toBeVisible();

    // The desktop exchanges the code with its verifier: a device token the sync server accepts.
    const tokens = await exchangeCode(request, desktop, callback.code ?? "");
    expect(tokens).toMatchObject({ token_type: "Bearer", email: credentials.email });
    expect(await syncPullStatus(request, tokens.access_token)).toBe(200);

    // /account lists it, through the browser's tRPC client talking to the sync server.
    await page.goto("/en/account");
    const device = page.locator(`[data-testid="device"][data-device-id="${tokens.device_id}"]`);
    await expect(device).toBeVisible();
    await expect(device.getByTestId("device-name")).toHaveText("QA Desktop");
    await expect(device.getByTestId("device-status")).not.toHaveAttribute("data-status", "revoked");

    await device.getByTestId("device-rename").click();
    await device.getByTestId("device-rename-input").fill("QA Laptop");
    await device.getByTestId("device-rename-save").click();
    await expect(device.getByTestId("device-name")).toHaveText("QA Laptop");

    await device.getByTestId("device-revoke").click();
    await device.getByTestId("device-revoke-confirm").click();
    await expect(device.getByTestId("device-status")).toHaveAttribute("data-status", "revoked");

    // Revoked: its access token is refused by the sync server, its refresh token is dead.
    expect(await syncPullStatus(request, tokens.access_token)).toBe(401);
    const refreshed = await tokenRequest(request, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  test("in Arabic the sign-in and consent screens are right to left; Decline tells the desktop", async ({
    page,
    account,
    desktop,
  }, testInfo) => {
    await page.goto(desktop.loginPath({ device_name: "ستوديو" }, "ar"));
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.getByTestId("consent-account")).toHaveText(account.email);
    await expect(page.getByTestId("consent-title")).toContainText("ستوديو");
    await attachScreenshot(page, testInfo, "consent-ar");

    await page.getByTestId("consent-decline").click();
    const callback = await desktop.callback();
    expect(callback).toEqual({ code: null, state: desktop.state, error: "access_denied" });
    await expect(page.getByTestId("loopback-done")).toBeVisible();

    await page.goto("/ar/account");
    await signOutThroughUi(page);
    await page.goto("/ar/sign-in");
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.getByTestId("auth-title")).not.toHaveText("Welcome back");
    await attachScreenshot(page, testInfo, "sign-in-ar");
  });

  test("a code works once, only with its verifier and redirect_uri", async ({
    page,
    request,
    account,
    desktop,
  }) => {
    await page.goto(desktop.loginPath());
    await expect(page.getByTestId("consent-account")).toHaveText(account.email);
    await page.getByTestId("consent-approve").click();
    const { code } = await desktop.callback();
    const exchange = (overrides: Record<string, string>) =>
      tokenRequest(request, {
        grant_type: "authorization_code",
        code: code ?? "",
        code_verifier: desktop.verifier,
        redirect_uri: desktop.redirectUri,
        ...overrides,
      });
    // A wrong verifier burns the code: the right one no longer helps.
    const wrongVerifier = await exchange({ code_verifier: "x".repeat(64) });
    expect(wrongVerifier).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(await exchange({})).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  test("invalid requests get an error page and are never redirected", async ({ page, desktop }) => {
    const port = new URL(desktop.redirectUri).port;
    const bad: Array<[string, Record<string, string>, string]> = [
      ["another host", { redirect_uri: "http://evil.example/callback" }, "redirect_uri"],
      ["localhost", { redirect_uri: `http://localhost:${port}/callback` }, "redirect_uri"],
      ["a wrong path", { redirect_uri: `http://127.0.0.1:${port}/cb` }, "redirect_uri"],
      ["a malformed state", { state: "short" }, "state"],
      ["a plain challenge", { code_challenge_method: "plain" }, "code_challenge_method"],
    ];
    for (const [what, overrides, problem] of bad) {
      // The localized error page, answered with 400: the request, not the server, is wrong.
      const response = await page.goto(desktop.loginPath(overrides));
      expect(response?.status(), what).toBe(400);
      await expect(page, what).toHaveURL(/\/en\/desktop-login\?/);
      await expect(page.getByTestId("desktop-login-invalid"), what).toBeVisible();
      await expect(page.getByTestId(`problem-${problem}`), what).toBeVisible();
    }
    const missingState = desktop.loginPath().replace(/&state=[^&]+/, "");
    expect((await page.goto(missingState))?.status()).toBe(400);
    await expect(page.getByTestId("problem-state")).toBeVisible();
    // In the reader's language, with the same status.
    const german = await page.goto(desktop.loginPath({ state: "short" }, "de"));
    expect(german?.status()).toBe(400);
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    await expect(page.getByTestId("problem-state")).toBeVisible();
    await expect(page.getByTestId("problem-state")).not.toHaveText(/state/i);
    // A valid request is not refused: signed out, the reader is sent to sign in.
    const valid = await page.request.get(desktop.loginPath(), { maxRedirects: 0 });
    expect(valid.status()).toBe(307);
    expect(valid.headers().location).toContain("/en/sign-in?callbackUrl=");
    // The listener heard nothing.
    const heard = await Promise.race([
      desktop.callback().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
    ]);
    expect(heard).toBe(false);
  });
});
