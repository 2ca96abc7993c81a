import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Page, TestInfo } from "@playwright/test";
import {
  attachScreenshot,
  expect,
  HeadlessDevice,
  newCredentials,
  signInThroughUi,
  signOutThroughUi,
  test,
  WEB_URL,
} from "./fixtures.ts";
import { expectNoAxeViolations } from "./support/axe.ts";
import { E2E_TIMEOUTS } from "./support/timeouts.ts";

/*
 * What a newcomer meets, end to end: the landing page's call to action, sign-up with a mailed
 * confirmation (read from the dev mailbox), /account with how to connect a desktop, a bound
 * desktop with a real "last synced", a forgotten password, deleting the account, and the CLI
 * of a desktop the account revoked. axe-core checks each state in light, dark and Arabic.
 */

const CLI = fileURLToPath(
  new URL("../packages/desktop-sync/bin/chorus-device.mjs", import.meta.url),
);

/** The first link to `path` in the newest mail to `to`, from the dev mailbox. */
async function mailedLink(page: Page, to: string, path: string): Promise<string> {
  const link = page.locator(`[data-testid=mail][data-to="${to}"] a[href*="${path}"]`).first();
  await expect
    .poll(
      async () => {
        await page.goto("/en/dev/mailbox");
        return link.count();
      },
      { timeout: E2E_TIMEOUTS.navigation },
    )
    .toBeGreaterThan(0);
  return (await link.getAttribute("href")) ?? "";
}

async function signUp(page: Page, testInfo: TestInfo, locale = "en") {
  const credentials = newCredentials();
  await page.goto(`/${locale}/sign-up`);
  await expect(page.locator("[data-testid=sign-up-form][data-ready]")).toBeVisible();
  await page.getByTestId("sign-up-name").fill(credentials.name ?? "");
  await page.getByTestId("sign-up-email").fill(credentials.email);
  // Long enough, but the first thing everyone tries: refused, with the reason.
  await page.getByTestId("sign-up-password").fill("password");
  await page.getByTestId("sign-up-submit").click();
  await expect(page.getByText(/too easy to guess/)).toBeVisible();
  await expect(page.getByTestId("sign-up-password")).toHaveAttribute("aria-invalid", "true");
  await expectNoAxeViolations(page, testInfo, `sign-up-weak-password-${locale}`);
  await page.getByTestId("sign-up-password").fill(credentials.password);
  await page.getByTestId("sign-up-submit").click();
  // The same answer whether or not the address has an account: check the inbox.
  await expect(page.getByTestId("sign-up-check-inbox")).toContainText(credentials.email, {
    timeout: E2E_TIMEOUTS.navigation,
  });
  return credentials;
}

/** Signs up, then signs in: ends on /account with the address not yet confirmed. */
async function signUpAndSignIn(page: Page, testInfo: TestInfo, locale = "en") {
  const credentials = await signUp(page, testInfo, locale);
  await page.getByTestId("sign-up-to-sign-in").click();
  await signInThroughUi(page, credentials, { goto: false });
  await expect(page).toHaveURL(new RegExp(`/${locale}/account$`), {
    timeout: E2E_TIMEOUTS.navigation,
  });
  return credentials;
}

test.describe("the newcomer's on-ramp", () => {
  test.setTimeout(300_000);

  test("landing -> sign-up -> confirm email -> /account -> connect a desktop -> it syncs", async ({
    page,
  }, testInfo) => {
    await page.goto("/en");
    await expectNoAxeViolations(page, testInfo, "landing-light");
    const cta = page.getByTestId("landing-cta");
    await expect(cta).toHaveAttribute("href", "/en/sign-up");
    await cta.click();
    await expect(page).toHaveURL(/\/en\/sign-up$/);

    const credentials = await signUp(page, testInfo);
    await expectNoAxeViolations(page, testInfo, "sign-up-check-inbox");
    await attachScreenshot(page, testInfo, "sign-up-check-inbox");

    const verify = await mailedLink(page, credentials.email, "/verify-email");
    await attachScreenshot(page, testInfo, "dev-mailbox");
    await page.goto(verify);
    await expect(page.getByTestId("verify-email")).toHaveAttribute("data-result", "ok");
    await expectNoAxeViolations(page, testInfo, "verify-email");
    // The link works once.
    await page.goto(verify);
    await expect(page.getByTestId("verify-email")).toHaveAttribute("data-result", "invalid");
    // "Go to your account" asks to sign in first, then lands there.
    await page.getByTestId("verify-email").getByRole("link").click();
    await signInThroughUi(page, credentials, { goto: false });
    await expect(page).toHaveURL(/\/en\/account$/, { timeout: E2E_TIMEOUTS.navigation });
    await expect(page.getByTestId("email-verified")).toBeVisible();
    await expect(page.getByTestId("connect-desktop")).toBeVisible();
    await expect(page.getByTestId("connect-cli")).toContainText(
      `npx chorus-device signin --profile laptop --web-url ${WEB_URL}`,
    );
    await expectNoAxeViolations(page, testInfo, "account-empty-light");
    await attachScreenshot(page, testInfo, "account-connect-a-desktop");

    // Connect a desktop (the real engine, through the browser) and let it sync.
    const device = await HeadlessDevice.signIn(page, WEB_URL, { name: "Studio laptop" });
    try {
      // After Approve the loopback listener sends the tab to the web app's page.
      await expect(page).toHaveURL(/\/en\/desktop-login\/done\?result=connected$/);
      await expect(page.getByTestId("desktop-login-done")).toBeVisible();
      await expectNoAxeViolations(page, testInfo, "desktop-login-done");
      await device.createPlaylist("First sync");
      await device.uploaded();
      await page.goto("/en/account");
      const card = page.getByTestId("device").filter({ hasText: "Studio laptop" });
      await expect(card.getByTestId("device-last-seen").locator("time")).toBeVisible({
        timeout: E2E_TIMEOUTS.navigation,
      });
      await expect(card.getByTestId("device-last-seen")).not.toHaveText(/Not yet/);
      await expectNoAxeViolations(page, testInfo, "account-with-device-light");
      await attachScreenshot(page, testInfo, "account-bound-device");
      // The owner was told by mail.
      expect(await mailedLink(page, credentials.email, "/account")).toContain("/en/account");

      await page.emulateMedia({ colorScheme: "dark" });
      await page.goto("/en/account");
      await expect(card).toBeVisible();
      await card.getByTestId("device-revoke").click();
      await expect(card.getByTestId("device-revoke-confirm")).toBeVisible();
      await expectNoAxeViolations(page, testInfo, "account-revoke-confirm-dark");
      await attachScreenshot(page, testInfo, "account-revoke-confirm-dark");

      await page.emulateMedia({ colorScheme: "light" });
      await page.goto("/ar/account");
      await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
      await expect(page.getByTestId("security")).toBeVisible();
      await page.getByTestId("session-menu").click();
      await expectNoAxeViolations(page, testInfo, "account-ar-menu-open");
      await attachScreenshot(page, testInfo, "account-ar");
    } finally {
      await device.close();
    }
  });

  test("forgot password: a one-time link from the dev mailbox sets a new one", async ({
    page,
    browser,
  }, testInfo) => {
    const credentials = await signUpAndSignIn(page, testInfo);
    // A second browser, not signed in (axe needs a page of a context made by newContext).
    const context = await browser.newContext({ baseURL: WEB_URL, locale: "en-US" });
    const other = await context.newPage();
    await other.goto("/en/sign-in");
    await expect(other.getByTestId("sign-in-email")).toBeFocused();
    await other.getByTestId("to-forgot-password").click();
    await expect(other).toHaveURL(/\/en\/forgot-password$/);
    await other.getByTestId("forgot-email").fill(credentials.email);
    await other.getByTestId("forgot-submit").click();
    await expect(other.getByTestId("forgot-sent")).toBeVisible();
    await expectNoAxeViolations(other, testInfo, "forgot-sent");

    const reset = await mailedLink(other, credentials.email, "/reset-password");
    await other.goto(reset);
    await other.getByTestId("reset-password").fill("12345678");
    await other.getByTestId("reset-submit").click();
    await expect(other.getByTestId("reset-password")).toHaveAttribute("aria-invalid", "true");
    await expectNoAxeViolations(other, testInfo, "reset-weak-password");
    await other.getByTestId("reset-password").fill("amber orchard compass");
    await other.getByTestId("reset-submit").click();
    await expect(other.getByTestId("reset-done")).toBeVisible();
    await attachScreenshot(other, testInfo, "reset-done");

    // Every session ended: the first browser is signed out.
    await page.goto("/en/account");
    await expect(page).toHaveURL(/\/en\/sign-in/);
    // The link is spent.
    await other.goto(reset);
    await other.getByTestId("reset-password").fill("another amber orchard");
    await other.getByTestId("reset-submit").click();
    await expect(other.getByTestId("reset-invalid")).toBeVisible();

    await signInThroughUi(
      page,
      { ...credentials, password: "amber orchard compass" },
      { goto: false },
    );
    await expect(page).toHaveURL(/\/en\/account$/, { timeout: E2E_TIMEOUTS.navigation });
    await context.close();
  });

  test("delete account asks for the password, then the account is gone", async ({
    page,
  }, testInfo) => {
    await page.emulateMedia({ colorScheme: "dark" });
    const credentials = await signUpAndSignIn(page, testInfo);
    await page.getByTestId("delete-account").click();
    await page.getByTestId("delete-password").fill("not my password");
    await page.getByTestId("delete-submit").click();
    await expect(page.getByTestId("delete-confirm").getByRole("alert")).toBeVisible();
    await expectNoAxeViolations(page, testInfo, "delete-confirm-error-dark");
    await attachScreenshot(page, testInfo, "delete-confirm-dark");
    await page.getByTestId("delete-password").fill(credentials.password);
    await page.getByTestId("delete-submit").click();
    await expect(page).toHaveURL(/\/en$/, { timeout: E2E_TIMEOUTS.navigation });
    await signInThroughUi(page, credentials);
    await expect(page.getByRole("alert")).toBeVisible();
    await expect(page).toHaveURL(/\/en\/sign-in/);
  });
});

test.describe("the account's language", () => {
  test.setTimeout(300_000);

  test("the language chosen in the switcher is saved with the account and used at sign-in", async ({
    page,
  }, testInfo) => {
    const credentials = await signUpAndSignIn(page, testInfo);
    await page.getByTestId("locale-switcher").selectOption("de");
    await expect(page).toHaveURL(/\/de\/account$/);
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    await signOutThroughUi(page);
    await page.context().clearCookies();
    await signInThroughUi(page, credentials, { locale: "en" });
    await expect(page).toHaveURL(/\/de\/account$/, { timeout: E2E_TIMEOUTS.navigation });

    // Mail follows the saved language, not the page it was asked from: German, formal.
    await signOutThroughUi(page);
    await page.goto("/en/forgot-password");
    await page.getByTestId("forgot-email").fill(credentials.email);
    await page.getByTestId("forgot-submit").click();
    await expect(page.getByTestId("forgot-sent")).toBeVisible();
    expect(await mailedLink(page, credentials.email, "/reset-password")).toContain(
      "/de/reset-password?token=",
    );
    const mail = page.locator(`[data-testid=mail][data-to="${credentials.email}"]`).first();
    await expect(mail.getByTestId("mail-subject")).toHaveText(
      "Setzen Sie Ihr Chorus-Passwort zurück",
    );
    await expect(mail.getByTestId("mail-text")).toContainText("Wählen Sie mit diesem Link");
    await attachScreenshot(page, testInfo, "dev-mailbox-german-reset");
  });
});

test.describe("error pages", () => {
  test("404, an invalid desktop request and a refused sign-in pass axe in light, dark and Arabic", async ({
    page,
  }, testInfo) => {
    for (const [scheme, locale] of [
      ["light", "en"],
      ["dark", "en"],
      ["light", "ar"],
      ["dark", "ar"],
    ] as const) {
      const label = `${locale}-${scheme}`;
      await page.emulateMedia({ colorScheme: scheme });
      expect((await page.goto(`/${locale}/no-such-page`))?.status()).toBe(404);
      await expectNoAxeViolations(page, testInfo, `404-${label}`);

      expect((await page.goto(`/${locale}/desktop-login?state=short`))?.status()).toBe(400);
      await expect(page.getByTestId("desktop-login-invalid")).toBeVisible();
      await expectNoAxeViolations(page, testInfo, `desktop-login-invalid-${label}`);
      await attachScreenshot(page, testInfo, `desktop-login-invalid-${label}`);

      await page.goto(`/${locale}/sign-in`);
      await page.getByTestId("sign-in-email").fill(`nobody-${Date.now()}@example.test`);
      await page.getByTestId("sign-in-password").fill("not the password at all");
      await page.getByTestId("sign-in-submit").click();
      await expect(page.getByTestId("form-error-invalid_credentials")).toBeVisible();
      await expectNoAxeViolations(page, testInfo, `sign-in-refused-${label}`);
    }
  });
});

/** Runs the shipped chorus-device binary; resolves to its exit code and output. */
function chorusDevice(dataDir: string, args: string[], onLine?: (line: string) => void) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CHORUS_DATA_DIR: dataDir, CHORUS_PROFILE: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  if (child.stdout)
    createInterface({ input: child.stdout }).on("line", (line) => {
      stdout += `${line}\n`;
      onLine?.(line);
    });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout, stderr })),
  );
}

test.describe("the CLI of a revoked desktop", () => {
  test.setTimeout(300_000);

  test("exits non-zero with one message that says how to bind again", async ({
    page,
  }, testInfo) => {
    await signUpAndSignIn(page, testInfo);
    const dataDir = mkdtempSync(join(tmpdir(), "chorus-e2e-cli-"));
    try {
      expect((await chorusDevice(dataDir, ["profile", "create", "laptop"])).code).toBe(0);
      const signedIn = chorusDevice(
        dataDir,
        ["signin", "--profile", "laptop", "--web-url", WEB_URL, "--no-open", "--json"],
        (line) => {
          const { url } = JSON.parse(line) as { url?: string };
          if (url) void page.goto(url).then(() => page.getByTestId("consent-approve").click());
        },
      );
      expect((await signedIn).code).toBe(0);
      await expect(page.getByTestId("desktop-login-done")).toBeVisible();
      const synced = await chorusDevice(dataDir, [
        "sync",
        "--profile",
        "laptop",
        "--timeout-ms",
        "60000",
      ]);
      expect(synced.code, synced.stderr).toBe(0);

      await page.goto("/en/account");
      const card = page.getByTestId("device");
      await card.getByTestId("device-revoke").click();
      await card.getByTestId("device-revoke-confirm").click();
      await expect(card.getByTestId("device-status")).toHaveAttribute("data-status", "revoked");

      for (const command of [["sync"], ["push"], ["status"], ["run"]]) {
        const result = await chorusDevice(dataDir, [
          ...command,
          "--profile",
          "laptop",
          "--timeout-ms",
          "60000",
        ]);
        expect(result.code, command.join(" ")).toBe(1);
        expect(result.stderr, command.join(" ")).toContain(
          "this device was revoked from your account",
        );
        expect(result.stderr, command.join(" ")).toContain(
          `chorus-device signin --profile laptop --web-url ${WEB_URL}`,
        );
      }
      const status = await chorusDevice(dataDir, ["status", "--profile", "laptop", "--json"]);
      expect(JSON.parse(status.stdout)).toMatchObject({ connection: "revoked" });
      await testInfo.attach("revoked-cli.txt", {
        body: (await chorusDevice(dataDir, ["sync", "--profile", "laptop"])).stderr,
        contentType: "text/plain",
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
