import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { signUpThroughUi } from "./fixtures";
import {
  boundHarnessEnv,
  buildDesktopHarness,
  DEVICE_CLI,
  DesktopBackend,
  deviceCli,
  ROOT,
  spawnUntil,
  startHarness,
  stop,
  TSX,
} from "./support/desktop-backend.ts";

/*
 * The desktop app's real UI (the renderer, served by the dev harness in Chromium) on a real
 * engine, and a second, headless engine (the chorus-device CLI) of the same user. The first
 * describe binds both with device tokens minted by the test, over a backend of its own; the
 * second signs both in through the real web app's /desktop-login (ADR 0002) on the system
 * playwright.config.ts starts.
 */
const CLI = DEVICE_CLI;

let backend: DesktopBackend;
let dataDir: string;
let harness: ChildProcess | undefined;
let harnessUrl: string;
let tokens: string[] = [];

function device(...args: string[]): string {
  return deviceCli(dataDir)(...args);
}

test.describe("desktop app", () => {
  test.describe.configure({ timeout: 120_000 });

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    buildDesktopHarness();
    backend = await DesktopBackend.start();
    ({ tokens } = await backend.account(2));
    dataDir = mkdtempSync(join(tmpdir(), "chorus-e2e-devices-"));

    const started = await startHarness({
      ...boundHarnessEnv(dataDir, "studio", backend.syncUrl, tokens[0] as string),
      CHORUS_DATA_DIR: join(dataDir, "harness"),
    });
    harness = started.child;
    harnessUrl = started.url;

    device("profile", "create", "laptop");
    device(
      "bind-token",
      "--profile",
      "laptop",
      "--sync-url",
      backend.syncUrl,
      "--token",
      tokens[1] as string,
    );
  });

  test.afterAll(async () => {
    await stop(harness);
    await backend?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("a playlist created in the UI shows up on a second, headless engine", async ({ page }) => {
    await page.goto(harnessUrl);
    await expect(page.getByText("Profile: studio")).toBeVisible();
    await expect(page.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");

    await page.getByLabel("New playlist").fill("Made in the desktop UI");
    await page.getByRole("button", { name: "Create" }).click();
    const playlists = page.getByRole("list", { name: "Playlists" });
    await expect(playlists.getByRole("button", { name: /Made in the desktop UI/ })).toBeVisible();
    await page.getByLabel("Title").fill("Opening track");
    await page.getByLabel("Artist").fill("The Band");
    await page.getByRole("button", { name: "Add track" }).click();
    await page
      .getByRole("button", { name: "Add “Opening track” to “Made in the desktop UI”" })
      .click();
    await expect(page.getByRole("list", { name: "Made in the desktop UI" })).toContainText(
      "Opening track",
    );
    await expect(page.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");

    // The second engine: a one-shot sync, then its library.
    await expect
      .poll(
        () => {
          device("sync", "--profile", "laptop", "--timeout-ms", "3000");
          const library = JSON.parse(device("library", "--profile", "laptop"));
          return library.playlists.map(
            (p: { name: string; entries: unknown[] }) => `${p.name}:${p.entries.length}`,
          );
        },
        { timeout: 60_000 },
      )
      .toEqual(["Made in the desktop UI:1"]);

    // And the other way: an edit on the headless engine appears in the UI by itself.
    const list = JSON.parse(device("playlist", "list", "--profile", "laptop"));
    device("playlist", "rename", list[0].id, "Renamed on the laptop", "--profile", "laptop");
    await expect(playlists.getByRole("button", { name: /Renamed on the laptop/ })).toBeVisible();

    await page.getByRole("button", { name: "Sync diagnostics" }).click();
    await expect(page.getByTestId("connection")).toHaveText("connected");
    await expect(page.getByTestId("pending-count")).toHaveText("Nothing waiting");
    await page.screenshot({
      path: test.info().outputPath("desktop-diagnostics.png"),
      fullPage: true,
    });
  });
});

test.describe("desktop app signed in through the browser", () => {
  test.describe.configure({ timeout: 120_000 });
  let home: string;
  let app: ChildProcess | undefined;
  let signin: ChildProcess | undefined;

  test.beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), "chorus-e2e-signin-"));
  });
  test.afterAll(async () => {
    await stop(signin);
    await stop(app);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("both engines bind through /desktop-login, then a playlist made in the UI reaches the CLI", async ({
    page,
    context,
    baseURL,
  }) => {
    test.setTimeout(150_000);
    const webUrl = baseURL as string;
    const credentials = await signUpThroughUi(page);
    const cli = deviceCli(home);

    const started = await spawnUntil(
      process.execPath,
      [TSX, join(ROOT, "apps/desktop/src/harness/server.ts")],
      { CHORUS_DATA_DIR: join(home, "harness"), CHORUS_PROFILE: "studio", CHORUS_WEB_URL: webUrl },
      (line) => line.includes('"harness":"listening"'),
    );
    app = started.child;
    const appUrl: string = JSON.parse(started.line).url;

    // The desktop UI: the first-run guide -> Sign in through the browser. The harness keeps
    // the URL the engine would open in the system browser; the signed-in browser tab approves.
    const desktop = await context.newPage();
    await desktop.goto(appUrl);
    await expect(desktop.getByTestId("first-run")).toBeVisible();
    await expect(desktop.getByLabel("Chorus web address")).toHaveValue(webUrl);
    await desktop.getByRole("button", { name: "Sign in through the browser" }).click();
    await expect(desktop.getByText("Waiting for the browser")).toBeVisible();
    let loginUrl = "";
    await expect
      .poll(async () => {
        const kept = (await (await fetch(`${appUrl}/harness/sign-in-url`)).json()) as {
          url: string | null;
        };
        loginUrl = kept.url ?? "";
        return loginUrl;
      })
      .toContain("/desktop-login?");
    await page.goto(loginUrl);
    await expect(page.getByTestId("consent-account")).toHaveText(credentials.email);
    await page.getByTestId("consent-approve").click();
    await expect(page.getByRole("heading", { name: "Your desktop is connected" })).toBeVisible();
    await expect(desktop.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");
    await desktop.getByRole("button", { name: "Settings" }).click();
    await expect(desktop.getByTestId("signed-in-badge")).toHaveText(
      `Signed in as ${credentials.email}`,
    );

    // The headless engine signs in the same way: it prints the URL, the browser approves.
    cli("profile", "create", "laptop");
    const signingIn = await spawnUntil(
      process.execPath,
      [
        TSX,
        CLI,
        "signin",
        "--web-url",
        webUrl,
        "--no-open",
        "--profile",
        "laptop",
        "--data-dir",
        home,
        "--json",
      ],
      {},
      (line) => line.includes('"url"'),
    );
    signin = signingIn.child;
    const finished = new Promise<number | null>((resolve) => signin?.once("exit", resolve));
    await page.goto(JSON.parse(signingIn.line).url);
    await page.getByTestId("consent-approve").click();
    expect(await finished).toBe(0);
    expect(JSON.parse(cli("status", "--profile", "laptop"))).toMatchObject({
      account: { email: credentials.email, signedIn: true },
    });

    await desktop.getByRole("button", { name: "Library" }).click();
    await desktop.getByLabel("New playlist").fill("Signed in through the browser");
    await desktop.getByRole("button", { name: "Create" }).click();
    await expect(desktop.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");
    await expect
      .poll(
        () => {
          cli("sync", "--profile", "laptop", "--timeout-ms", "3000");
          return JSON.parse(cli("library", "--profile", "laptop")).playlists.map(
            (p: { name: string }) => p.name,
          );
        },
        { timeout: 60_000 },
      )
      .toEqual(["Signed in through the browser"]);
  });
});
