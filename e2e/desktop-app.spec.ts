import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Browser, BrowserContext, Locator, Page, TestInfo } from "@playwright/test";
import { attachScreenshot, expect, signUpThroughUi, test } from "./fixtures";
import { buildDesktopHarness, startHarness, stop } from "./support/desktop-backend.ts";

/*
 * The desktop app as its users meet it: two desktops (the real renderer, served by the dev
 * harness, each over a real engine) of one account, signed in through the real web app's
 * /desktop-login in a browser tab, syncing through the real sync server that
 * playwright.config.ts starts. Every state is screenshotted into the report and checked with
 * axe-core (zero violations) in light, dark and Arabic, with the toast and banner showing.
 */

const SYNC_WAIT = { timeout: 60_000 };

interface Desktop {
  child: ChildProcess;
  url: string;
  page: Page;
  /** The engine's log (the harness's stderr), attached to a failed test. */
  logFile: string;
}

async function startDesktop(
  context: BrowserContext,
  dataDir: string,
  env: Record<string, string>,
): Promise<Desktop> {
  const logFile = `${dataDir}.log`;
  const started = await startHarness({ CHORUS_DATA_DIR: dataDir, ...env }, logFile);
  const url = started.url;
  const page = await context.newPage();
  await page.goto(url);
  return { child: started.child, url, page, logFile };
}

/** A failed test carries each desktop's engine log: what it did is the first clue. */
async function attachLogsOnFailure(testInfo: TestInfo, desktops: Record<string, Desktop>) {
  if (testInfo.status === testInfo.expectedStatus) return;
  for (const [name, desktop] of Object.entries(desktops)) {
    if (existsSync(desktop.logFile)) {
      await testInfo.attach(`${name}-engine.log`, {
        path: desktop.logFile,
        contentType: "text/plain",
      });
    }
  }
}

/** The sign-in URL the harness's engine would have opened in the system browser. */
async function keptSignInUrl(desktop: Desktop): Promise<string> {
  const response = await fetch(`${desktop.url}/harness/sign-in-url`);
  return ((await response.json()) as { url: string | null }).url ?? "";
}

/** "Sign in through the browser" on the desktop, approved in the signed-in web tab. */
async function signInDesktop(desktop: Desktop, web: Page, deviceName: string): Promise<void> {
  const before = await keptSignInUrl(desktop);
  await desktop.page.getByRole("button", { name: "Sign in through the browser" }).click();
  let loginUrl = "";
  await expect
    .poll(async () => {
      loginUrl = await keptSignInUrl(desktop);
      return loginUrl !== "" && loginUrl !== before;
    }, SYNC_WAIT)
    .toBe(true);
  await web.goto(loginUrl);
  await expect(web.getByTestId("consent-device")).toHaveText(deviceName);
  await web.getByTestId("consent-approve").click();
  await expect(web.getByRole("heading", { name: "Your desktop is connected" })).toBeVisible();
}

/** axe-core on the page as it is now: zero violations, the full report attached. */
async function expectAccessible(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  await testInfo.attach(`axe-${name}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: "application/json",
  });
  expect(
    results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`,
    ),
    `axe violations in ${name}`,
  ).toEqual([]);
}

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await attachScreenshot(page, testInfo, name);
  await expectAccessible(page, testInfo, name);
}

/** Presses Tab until `target` has the focus: the flow uses the keyboard only. */
async function tabTo(page: Page, target: Locator, backwards = false): Promise<void> {
  for (let i = 0; i < 80; i++) {
    const focused = await target.evaluate(
      (element) =>
        element ===
        (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
    );
    if (focused) return;
    await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

const status = (page: Page) => page.getByTestId("sync-status");
const playlistButton = (page: Page, name: string | RegExp) =>
  page.getByTestId("playlists").getByRole("button", { name });

test.describe("the desktop app, two desktops of one account", () => {
  test.describe.configure({ mode: "serial", timeout: 180_000 });

  let home: string;
  let browser: Browser;
  let webContext: BrowserContext;
  let desktopContext: BrowserContext;
  let web: Page;
  let studio: Desktop;
  let laptop: Desktop;
  let webUrl: string;

  test.beforeAll(async ({ browser: shared }, testInfo) => {
    test.setTimeout(240_000);
    buildDesktopHarness();
    browser = shared;
    webUrl = testInfo.project.use.baseURL as string;
    home = mkdtempSync(join(tmpdir(), "chorus-e2e-desktop-app-"));
    webContext = await browser.newContext({ baseURL: webUrl });
    web = await webContext.newPage();
    await signUpThroughUi(web);
    desktopContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    studio = await startDesktop(desktopContext, join(home, "studio"), {
      CHORUS_WEB_URL: webUrl,
      CHORUS_HOST_NAME: "studio-pc",
    });
    laptop = await startDesktop(desktopContext, join(home, "laptop"), {
      CHORUS_WEB_URL: webUrl,
      CHORUS_HOST_NAME: "laptop-pc",
    });
  });

  test.afterEach(async () => {
    await attachLogsOnFailure(test.info(), { studio, laptop });
  });

  test.afterAll(async () => {
    await stop(studio?.child);
    await stop(laptop?.child);
    await desktopContext?.close();
    await webContext?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("first run: the guide, sign in through the browser, an edit reaches the other desktop, which says Synced", async () => {
    const testInfo = test.info();
    for (const [desktop, host] of [
      [studio, "studio-pc"],
      [laptop, "laptop-pc"],
    ] as const) {
      const guide = desktop.page.getByTestId("first-run");
      await expect(guide.getByRole("heading", { level: 1 })).toHaveText("Welcome to Chorus");
      // The web address of the default setup and the computer's name are filled in.
      await expect(guide.getByLabel("Chorus web address")).toHaveValue(webUrl);
      await expect(guide.getByLabel("This computer’s name")).toHaveValue(host);
    }
    await snapshot(studio.page, testInfo, "first-run");

    // The studio gets a name of its own; the laptop keeps its host name.
    await studio.page.getByLabel("This computer’s name").fill("Studio desktop");
    await signInDesktop(studio, web, "Studio desktop");
    await expect(studio.page.getByRole("heading", { level: 1, name: "Library" })).toBeVisible();
    await signInDesktop(laptop, web, "laptop-pc");
    await expect(laptop.page.getByRole("heading", { level: 1, name: "Library" })).toBeVisible();

    // The account lists both desktops by the names given at sign-in.
    await web.goto("/en/account");
    await expect
      .poll(async () => (await web.getByTestId("device-name").allInnerTexts()).sort())
      .toEqual(["Studio desktop", "laptop-pc"].sort());

    await studio.page.getByLabel("New playlist").fill("Made on the studio");
    await studio.page.getByRole("button", { name: "Create", exact: true }).click();
    await expect(playlistButton(laptop.page, /Made on the studio/)).toBeVisible(SYNC_WAIT);
    for (const desktop of [studio, laptop]) {
      await expect(status(desktop.page)).toHaveAttribute("data-status", "synced", SYNC_WAIT);
      await expect(desktop.page.getByTestId("sync-status-text")).toHaveText(/^Synced · /);
    }
    // "Sync now" says what happened.
    await laptop.page.getByTestId("sync-status-action").click();
    await expect(laptop.page.getByTestId("sync-report")).toHaveText(
      "Up to date: nothing to upload",
    );
    await snapshot(studio.page, testInfo, "studio-synced");
    await snapshot(laptop.page, testInfo, "laptop-synced");
  });

  test("a 200-character name wraps in its row; the page keeps its width and every playlist stays clickable", async () => {
    const testInfo = test.info();
    const page = studio.page;
    const long = "A".repeat(200);
    for (const name of [long, "Short list"]) {
      await page.getByLabel("New playlist").fill(name);
      await page.getByRole("button", { name: "Create", exact: true }).click();
      await expect(playlistButton(page, new RegExp(name))).toBeVisible();
    }
    await playlistButton(page, new RegExp(long)).click();
    const width = (await page.evaluate(
      "({ page: document.documentElement.scrollWidth, window: window.innerWidth })",
    )) as { page: number; window: number };
    expect(width.page).toBeLessThanOrEqual(width.window);
    // The other playlists are not covered: a click selects them.
    await playlistButton(page, /Short list/).click();
    await expect(playlistButton(page, /Short list/)).toHaveAttribute("aria-current", "true");
    await playlistButton(page, new RegExp(long)).click();
    await expect(page.locator("#playlist-heading")).toHaveText(long);
    await snapshot(page, testInfo, "long-name");
  });

  test("deleting can be undone, and deleting a track says how many playlists it leaves", async () => {
    const testInfo = test.info();
    const page = studio.page;
    await playlistButton(page, /Short list/).click();
    await page.getByRole("button", { name: "Delete playlist" }).click();
    const toast = page.getByRole("status").filter({ hasText: "Deleted the playlist" });
    await expect(toast).toHaveText(/Deleted the playlist “Short list”\./);
    await expect(playlistButton(page, /Short list/)).toHaveCount(0);
    // Focus moved to Undo (the deleted row is gone).
    await expect(page.getByTestId("undo")).toBeFocused();
    await snapshot(page, testInfo, "undo-toast");
    await page.keyboard.press("Enter");
    await expect(playlistButton(page, /Short list/)).toBeFocused();
    await expect(toast).toHaveCount(0);

    // A track in two playlists.
    await page.getByLabel("Title").fill("Intro");
    await page.getByLabel("Artist").fill("The Band");
    await page.getByRole("button", { name: "Add track" }).click();
    for (const playlist of ["Short list", "Made on the studio"]) {
      await playlistButton(page, new RegExp(playlist)).click();
      await page.getByRole("button", { name: `Add “Intro” to “${playlist}”` }).click();
      await expect(page.getByTestId("playlist-entries")).toContainText("Intro");
    }
    await expect(
      laptop.page.getByTestId("tracks").getByRole("listitem").filter({ hasText: "Intro" }),
    ).toHaveCount(1, SYNC_WAIT);
    await page.getByRole("button", { name: "Delete “Intro”" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Intro" })).toHaveText(
      /Deleted “Intro”; it left 2 playlists\./,
    );
    await page.getByRole("button", { name: "Dismiss" }).click();
    // Dismissed: the deletion is made, and reaches the other desktop.
    await expect(
      laptop.page.getByTestId("tracks").getByRole("listitem").filter({ hasText: "Intro" }),
    ).toHaveCount(0, SYNC_WAIT);
    await expect(playlistButton(laptop.page, /Short list/)).toBeVisible();
  });

  test("playlist entries reorder by drag and drop as by the arrows, and the other desktop shows the order", async () => {
    const testInfo = test.info();
    const page = studio.page;
    await page.getByLabel("New playlist").fill("Drag list");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await playlistButton(page, /Drag list/).click();
    for (const title of ["Alpha", "Bravo", "Charlie"]) {
      await page.getByLabel("Title").fill(title);
      await page.getByLabel("Artist").fill("Drag band");
      await page.getByRole("button", { name: "Add track" }).click();
      await page.getByRole("button", { name: `Add “${title}” to “Drag list”` }).click();
      await expect(page.getByTestId("playlist-entries")).toContainText(title);
    }
    const order = (desktop: Desktop) =>
      desktop.page
        .getByTestId("playlist-entries")
        .getByRole("listitem")
        .locator(".grow")
        .allInnerTexts()
        .then((titles) => titles.map((title) => title.split(" — ")[0]));
    const row = (title: string) =>
      page.getByTestId("playlist-entries").getByRole("listitem").filter({ hasText: title });
    await expect.poll(() => order(studio)).toEqual(["Alpha", "Bravo", "Charlie"]);

    // Dragged up: Charlie takes Alpha's place.
    await row("Charlie").dragTo(row("Alpha"));
    await expect.poll(() => order(studio)).toEqual(["Charlie", "Alpha", "Bravo"]);
    await attachScreenshot(page, testInfo, "entries-dragged");
    // Dragged down: Charlie goes after Bravo.
    await row("Charlie").dragTo(row("Bravo"));
    await expect.poll(() => order(studio)).toEqual(["Alpha", "Bravo", "Charlie"]);
    // Dropped on itself: nothing moves.
    await row("Bravo").dragTo(row("Bravo"));
    await expect.poll(() => order(studio)).toEqual(["Alpha", "Bravo", "Charlie"]);
    await row("Alpha").dragTo(row("Charlie"));
    await expect.poll(() => order(studio)).toEqual(["Bravo", "Charlie", "Alpha"]);

    // The arrows still work, from the keyboard, and make the same move.
    await row("Alpha").getByRole("button", { name: "Move up" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => order(studio)).toEqual(["Bravo", "Alpha", "Charlie"]);

    // The other desktop received the same order.
    await playlistButton(laptop.page, /Drag list/).click();
    await expect.poll(() => order(laptop), SYNC_WAIT).toEqual(["Bravo", "Alpha", "Charlie"]);
    await attachScreenshot(laptop.page, testInfo, "entries-order-on-the-other-desktop");
  });

  test("keyboard only: rename, Escape cancels, focus comes back; arrow keys do not switch the sync mode", async () => {
    const testInfo = test.info();
    const page = studio.page;
    await page.getByRole("heading", { level: 1, name: "Library" }).focus();
    const row = playlistButton(page, /Made on the studio/);
    await tabTo(page, row);
    await page.keyboard.press("Enter");
    await expect(row).toHaveAttribute("aria-current", "true");
    const rename = page.getByRole("button", { name: "Rename", exact: true });
    await tabTo(page, rename);

    await page.keyboard.press("Enter");
    const field = page.getByLabel("Playlist name", { exact: true });
    await expect(field).toBeFocused();
    await page.keyboard.type("Not kept");
    await page.keyboard.press("Escape");
    await expect(page.locator("#playlist-heading")).toHaveText("Made on the studio");
    await expect(rename).toBeFocused();

    await page.keyboard.press("Enter");
    await expect(field).toBeFocused();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("Renamed by keyboard");
    await page.keyboard.press("Enter");
    await expect(page.locator("#playlist-heading")).toHaveText("Renamed by keyboard");
    await expect(rename).toBeFocused();
    await expect(playlistButton(laptop.page, /Renamed by keyboard/)).toBeVisible(SYNC_WAIT);

    // An empty name is refused in words, before anything is sent.
    await page.keyboard.press("Enter");
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.press("Delete");
    await page.keyboard.press("Enter");
    await expect(page.getByText("Enter a name.")).toBeVisible();
    await snapshot(page, testInfo, "rename-validation");
    await page.keyboard.press("Escape");
    await expect(rename).toBeFocused();

    // The sync mode: arrows move the choice; only Apply changes the mode.
    const settingsTab = page.getByRole("button", { name: "Settings", exact: true });
    await tabTo(page, settingsTab, true);
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeFocused();
    const hybrid = page.getByRole("radio", { name: /^Hybrid/ });
    await tabTo(page, hybrid);
    await page.keyboard.press("ArrowUp");
    await expect(page.getByRole("radio", { name: /^Local only/ })).toBeChecked();
    await expect(page.getByTestId("mode-apply")).toBeEnabled();
    await expect(status(page)).toHaveAttribute("data-status", "synced");
    const settings = (await (
      await page.request.post(`${studio.url}/api/chorus:settings:get`, {
        headers: { origin: studio.url },
      })
    ).json()) as { data: { mode: string } };
    expect(settings.data.mode).toBe("hybrid");
    await snapshot(page, testInfo, "settings-mode-choice");
    await page.keyboard.press("ArrowDown");
    await expect(page.getByTestId("mode-apply")).toBeDisabled();
  });

  test("after a profile switch, Settings shows that profile's web address, not the last one's", async () => {
    const testInfo = test.info();
    const page = laptop.page;
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    const account = page.getByTestId("account-card");
    const profiles = page.getByRole("region", { name: "Profiles" });
    for (const name of ["work", "home"]) {
      await page.getByLabel("New profile").fill(name);
      await profiles.getByRole("button", { name: "Create" }).click();
      await expect(profiles.getByRole("button", { name: `Switch to ${name}` })).toBeVisible();
    }
    await profiles.getByRole("button", { name: "Switch to work" }).click();
    await expect(page.getByText("Profile: work")).toBeVisible();
    const address = account.getByLabel("Chorus web address");
    await expect(address).toHaveValue(webUrl);
    await address.fill("http://typo.example");
    await profiles.getByRole("button", { name: "Switch to home" }).click();
    await expect(page.getByText("Profile: home")).toBeVisible();
    await expect(address).toHaveValue(webUrl);
    await expect(
      account.getByRole("button", { name: "Sign in through the browser" }),
    ).toBeEnabled();
    // A profile name the engine would refuse is explained, not sent.
    await page.getByLabel("New profile").fill("My Profile");
    await profiles.getByRole("button", { name: "Create" }).click();
    await expect(page.getByTestId("profile-name-error")).toHaveText(
      "Use 1 to 64 lowercase letters, digits, “-” or “_”, starting with a letter or a digit.",
    );
    await snapshot(page, testInfo, "settings-profiles");
    await profiles.getByRole("button", { name: "Switch to default" }).click();
    await expect(page.getByText("Profile: default")).toBeVisible();
    await expect(status(page)).toHaveAttribute("data-status", "synced", SYNC_WAIT);
  });

  test("revoked on the web: the desktop says Signed out — sign in again, and recovers after signing in", async () => {
    const testInfo = test.info();
    await web.goto("/en/account");
    const device = web.getByTestId("device").filter({ hasText: "Studio desktop" });
    await device.getByTestId("device-revoke").click();
    await device.getByTestId("device-revoke-confirm").click();
    await expect(device.getByTestId("device-status")).toHaveAttribute("data-status", "revoked");

    await laptop.page.getByRole("button", { name: "Library", exact: true }).click();
    const page = studio.page;
    await page.getByRole("button", { name: "Library", exact: true }).click();
    await page.getByLabel("New playlist").fill("Made while revoked");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await expect(status(page)).toHaveAttribute("data-status", "signed_out", SYNC_WAIT);
    await expect(page.getByTestId("sync-status-text")).toHaveText("Signed out — sign in again");
    const banner = page.getByTestId("signed-out-banner");
    await expect(banner).toContainText("This computer was signed out.");
    await expect(banner).toContainText("Sign in again to upload the 1 change waiting here.");
    await snapshot(page, testInfo, "signed-out-banner");

    await banner.getByRole("button", { name: "Sign in again" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
    await expect(page.getByTestId("account-card")).toContainText("You were signed out.");
    await page.getByLabel("This computer’s name").fill("Studio desktop again");
    await signInDesktop(studio, web, "Studio desktop again");
    await expect(status(page)).toHaveAttribute("data-status", "synced", SYNC_WAIT);
    await expect(banner).toHaveCount(0);
    await expect(playlistButton(laptop.page, /Made while revoked/)).toBeVisible(SYNC_WAIT);

    // Diagnostics: server and last sync first; the refusal is history once synced again.
    await page.getByRole("button", { name: "Sync diagnostics" }).click();
    await expect(page.getByTestId("diagnostics-server")).toContainText("http://127.0.0.1:");
    await expect(page.getByTestId("last-sync")).not.toHaveText("Never");
    await expect(page.getByTestId("last-error")).toContainText("is resolved");
    await page.getByRole("button", { name: "Sync now" }).last().click();
    await expect(page.getByTestId("diagnostics-report")).toHaveText(
      "Up to date: nothing to upload",
    );
    await page.getByText("Technical details").click();
    await snapshot(page, testInfo, "diagnostics");
  });

  test("dark theme and Arabic, chosen in the app, pass axe with the toast open", async () => {
    const testInfo = test.info();
    const page = studio.page;
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    // The selects, focused, in light mode too (below: why an open one is not checked).
    for (const label of ["Theme", "Language"]) {
      await page.getByLabel(label).focus();
      await expectAccessible(page, testInfo, `light-select-${label.toLowerCase()}-focused`);
    }
    await page.getByLabel("Theme").selectOption("dark");
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await snapshot(page, testInfo, "dark-settings");
    await page.getByRole("button", { name: "Library", exact: true }).click();
    await playlistButton(page, /Renamed by keyboard/).click();
    await snapshot(page, testInfo, "dark-library");
    await page.getByRole("button", { name: "Delete playlist" }).click();
    await expect(page.getByTestId("undo")).toBeFocused();
    await snapshot(page, testInfo, "dark-undo-toast");
    await page.getByTestId("undo").click();
    // The rename form with its error, and the diagnostics with the technical details open.
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await page.getByLabel("Playlist name", { exact: true }).fill("");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText("Enter a name.")).toBeVisible();
    await snapshot(page, testInfo, "dark-rename-error");
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "Sync diagnostics" }).click();
    await page.getByText("Technical details").click();
    await snapshot(page, testInfo, "dark-diagnostics-details-open");

    await page.getByRole("button", { name: "Settings", exact: true }).click();
    // The native selects, focused and changed from the keyboard. An OPEN native select cannot
    // be put under axe: Chromium draws its list of options as a popup widget of the browser,
    // outside the page's DOM and accessibility tree (headless, it is not drawn at all), so
    // there is nothing for axe to inspect, and Playwright's selectOption never opens it. What
    // axe can check is the select itself, with its options in the DOM (name, label, contrast
    // of the closed control, focus ring): focused here, in light and dark and in Arabic below.
    const options = await page
      .getByLabel("Language")
      .locator("option")
      .evaluateAll((all) => all.length);
    expect(options).toBeGreaterThan(1);
    for (const label of ["Theme", "Language"]) {
      await page.getByLabel(label).focus();
      await expectAccessible(page, testInfo, `dark-select-${label.toLowerCase()}-focused`);
    }
    await page.getByLabel("Language").selectOption("ar");
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("الإعدادات");
    await page.getByLabel("ملف شخصي جديد").fill("Bad Name");
    await page.getByRole("button", { name: "إنشاء" }).last().click();
    // The same rule, in the user's language.
    await expect(page.getByTestId("profile-name-error")).toHaveText(
      "استخدم من 1 إلى 64 حرفًا لاتينيًا صغيرًا أو رقمًا أو «-» أو «_»، على أن يبدأ بحرف أو رقم.",
    );
    await snapshot(page, testInfo, "arabic-dark-settings");
    await page.getByLabel("اللغة").focus();
    await expectAccessible(page, testInfo, "arabic-dark-select-focused");
    await page.getByLabel("السمة").selectOption("light");
    await page.getByRole("button", { name: "المكتبة" }).click();
    await expect(page.getByTestId("sync-status-text")).toHaveText(/^تمت المزامنة · /);
    await snapshot(page, testInfo, "arabic-library");
    // Arabic, light: the undo toast, the rename form, the diagnostics' details.
    await playlistButton(page, /Renamed by keyboard/).click();
    await page.locator("#playlist-heading").waitFor();
    await page.getByRole("button", { name: "إعادة التسمية" }).click();
    await snapshot(page, testInfo, "arabic-rename-open");
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "تشخيص المزامنة" }).click();
    await page.locator("details summary").click();
    await snapshot(page, testInfo, "arabic-diagnostics-details-open");
    await page.getByRole("button", { name: "الإعدادات" }).click();
    await page.getByLabel("اللغة").selectOption("system");
    await expect(page.locator("html")).toHaveAttribute("dir", "ltr");
  });

  test("an edit overwritten by the other desktop is said on the item, on both desktops; Diagnostics lists the change still waiting", async () => {
    const testInfo = test.info();
    const lp = laptop.page;
    const sp = studio.page;
    for (const desktop of [studio, laptop]) {
      await desktop.page.getByRole("button", { name: "Library", exact: true }).click();
      await expect(status(desktop.page)).toHaveAttribute("data-status", "synced", SYNC_WAIT);
    }
    await expect(playlistButton(lp, /Renamed by keyboard/)).toBeVisible(SYNC_WAIT);
    const setMode = async (page: Page, mode: RegExp) => {
      await page.getByRole("button", { name: "Settings", exact: true }).click();
      await page.getByRole("radio", { name: mode }).check();
      await page.getByTestId("mode-apply").click();
      await page.getByRole("button", { name: "Library", exact: true }).click();
    };
    const renameTo = async (page: Page, from: RegExp, to: string) => {
      await playlistButton(page, from).click();
      await page.getByRole("button", { name: "Rename", exact: true }).click();
      await page.getByLabel("Playlist name", { exact: true }).fill(to);
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await expect(page.locator("#playlist-heading")).toHaveText(to);
    };

    // The laptop renames while it does not sync.
    await setMode(lp, /^Local only/);
    await expect(status(lp)).toHaveAttribute("data-status", "local");
    await renameTo(lp, /Renamed by keyboard/, "Laptop name");
    // Diagnostics says which change waits, in words, with its age.
    await lp.getByRole("button", { name: "Sync diagnostics" }).click();
    await expect(lp.getByTestId("pending-list")).toContainText("Playlist: name changed");
    await snapshot(lp, testInfo, "diagnostics-pending-list");

    // The studio makes one other edit, then renames the same playlist: its rename carries the
    // higher stamp (both clocks had seen the same history), so it wins everywhere.
    await sp.getByLabel("New playlist").fill("Studio extra");
    await sp.getByRole("button", { name: "Create", exact: true }).click();
    await renameTo(sp, /Renamed by keyboard/, "Studio name");
    await expect(status(sp)).toHaveAttribute("data-status", "synced", SYNC_WAIT);

    await setMode(lp, /^Hybrid/);
    await playlistButton(lp, /Studio name/).click();
    await expect(lp.locator("#playlist-heading")).toHaveText("Studio name", SYNC_WAIT);
    const lost = lp.getByTestId("overwritten-notice");
    await expect(lost).toHaveAttribute("data-outcome", "lost", SYNC_WAIT);
    // The device's name comes from the account's device list, once it reached the laptop.
    await expect(lost.locator("p")).toHaveText(
      /^Your change here, “Laptop name”, was replaced by “Studio name” from Studio desktop again, .+\.$/,
      SYNC_WAIT,
    );
    await snapshot(lp, testInfo, "overwritten-notice-lost");

    // The studio is told the reverse.
    await playlistButton(sp, /Studio name/).click();
    const won = sp.getByTestId("overwritten-notice");
    await expect(won.locator("p")).toHaveText(
      /^Your change here, “Studio name”, replaced “Laptop name” from laptop-pc, .+\.$/,
      SYNC_WAIT,
    );
    await snapshot(sp, testInfo, "overwritten-notice-won");
    // Arabic, right to left, and German (formal): the same notice in the user's language.
    await sp.getByRole("button", { name: "Settings", exact: true }).click();
    await sp.getByLabel("Language").selectOption("ar");
    await sp.getByRole("button", { name: "المكتبة" }).click();
    await playlistButton(sp, /Studio name/).click();
    await expect(won.locator("p")).toContainText("تغييرك هنا «Studio name» حلّ محلّ «Laptop name»");
    await expect(won.getByRole("button", { name: "إخفاء" })).toBeVisible();
    await snapshot(sp, testInfo, "overwritten-notice-arabic");
    await sp.getByRole("button", { name: "الإعدادات" }).click();
    await sp.getByLabel("اللغة").selectOption("de");
    await sp.getByRole("button", { name: "Bibliothek" }).click();
    await playlistButton(sp, /Studio name/).click();
    await expect(won.locator("p")).toContainText("Ihre Änderung hier, „Studio name“, hat");
    await snapshot(sp, testInfo, "overwritten-notice-german");
    await sp.getByRole("button", { name: "Einstellungen" }).click();
    await sp.getByLabel("Sprache").selectOption("system");
    await expect(sp.locator("html")).toHaveAttribute("lang", "en");

    // Keyboard only: Tab reaches Dismiss, Enter dismisses, the focus goes to Rename.
    const dismiss = lost.getByRole("button", { name: "Dismiss" });
    await lp.locator("#playlist-heading").click();
    await tabTo(lp, dismiss);
    await lp.keyboard.press("Enter");
    await expect(lost).toHaveCount(0);
    await expect(lp.getByRole("button", { name: "Rename", exact: true })).toBeFocused();
    // Dismissed for good: the engine keeps it as seen (the CLI's `conflicts --all` lists it).
    await lp.reload();
    await playlistButton(lp, /Studio name/).click();
    await expect(lp.locator("#playlist-heading")).toHaveText("Studio name");
    await expect(lp.getByTestId("overwritten-notice")).toHaveCount(0);
  });
});

test.describe("the desktop app used on its own", () => {
  test.describe.configure({ timeout: 180_000 });

  test("Local mode from the first run; 500 tracks are searchable and windowed", async ({
    browser,
  }, testInfo) => {
    buildDesktopHarness();
    const home = mkdtempSync(join(tmpdir(), "chorus-e2e-desktop-local-"));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const desktop = await startDesktop(context, home, { CHORUS_HOST_NAME: "solo-pc" });
    try {
      const page = desktop.page;
      // No web address configured: the guide leaves the field empty and says what it needs.
      await expect(page.getByLabel("Chorus web address")).toHaveValue("");
      await page.getByRole("button", { name: "Sign in through the browser" }).click();
      await expect(
        page.getByText("Enter the web address, starting with http:// or https://."),
      ).toBeVisible();
      await page.getByRole("button", { name: "Use Local mode" }).click();
      await expect(status(page)).toHaveAttribute("data-status", "local");
      await expect(page.getByTestId("sync-status-text")).toHaveText(
        "Local only · nothing leaves this computer",
      );
      await expect(page.getByTestId("sync-status")).not.toContainText("Not syncing");

      // 500 tracks, added through the same bridge the UI uses.
      for (let i = 1; i <= 500; i++) {
        const response = await fetch(`${desktop.url}/api/chorus:library:add-track`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: desktop.url },
          body: JSON.stringify({ title: `Track ${String(i).padStart(3, "0")}`, artist: "Many" }),
        });
        expect(response.ok).toBe(true);
      }
      const tracks = page.getByTestId("tracks");
      await expect(tracks.getByRole("listitem").first()).toHaveAttribute("aria-setsize", "500");
      // Windowed: a few dozen rows in the document, not 500 (nor a button per row for all).
      expect(await tracks.getByRole("listitem").count()).toBeLessThan(60);
      expect(await page.getByRole("button").count()).toBeLessThan(120);
      await expect(page.getByText("Local only · 500 changes kept here")).toBeVisible();
      await page.getByTestId("library-search").fill("track 250");
      await expect(tracks.getByRole("listitem")).toHaveCount(1);
      await expect(tracks).toContainText("Track 250");
      await snapshot(page, testInfo, "local-500-tracks-search");
      await page.getByTestId("library-search").fill("");
      // Scrolled with the mouse wheel: the window renders the rows that come into view.
      await tracks.locator("xpath=..").hover();
      await page.mouse.wheel(0, 500 * 44);
      await expect(tracks).toContainText("Track 500");
      await attachScreenshot(page, testInfo, "local-500-tracks-scrolled");
    } finally {
      await stop(desktop.child);
      await context.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
