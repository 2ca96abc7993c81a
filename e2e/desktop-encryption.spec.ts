import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import {
  boundHarnessEnv,
  buildDesktopHarness,
  DesktopBackend,
  startHarness,
  stop,
} from "./support/desktop-backend.ts";

/*
 * End-to-end encryption in the desktop window: two desktops (the real renderer served by the
 * dev harness, each over a real engine) of one account, bound with device tokens to a sync
 * server of the test's own. The first sets the encryption password, the second is refused a
 * wrong one and unlocks with the right one, and a playlist made on either shows on the other.
 */

const SYNC_WAIT = { timeout: 60_000 };
const PASSWORD = "a long encryption password";

let backend: DesktopBackend;
let dataDir: string;
const harnesses: ChildProcess[] = [];

async function desktop(page: Page, name: string, token: string): Promise<void> {
  const started = await startHarness(boundHarnessEnv(dataDir, name, backend.syncUrl, token));
  harnesses.push(started.child);
  await page.goto(started.url);
  await expect(page.getByText(`Profile: ${name}`)).toBeVisible();
}

async function createPlaylist(page: Page, name: string): Promise<void> {
  await page.getByRole("button", { name: "Library", exact: true }).click();
  await page.getByLabel("New playlist").fill(name);
  await page.getByRole("button", { name: "Create", exact: true }).click();
}

/** axe-core on the page as it is now: zero violations. */
async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  expect(
    results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`,
    ),
  ).toEqual([]);
}

const playlist = (page: Page, name: string) =>
  page.getByRole("list", { name: "Playlists" }).getByRole("button", { name: new RegExp(name) });

test.describe("end-to-end encryption in the desktop window", () => {
  test.describe.configure({ timeout: 180_000 });

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    buildDesktopHarness();
    backend = await DesktopBackend.start();
    dataDir = mkdtempSync(join(tmpdir(), "chorus-e2e-encryption-"));
  });

  test.afterAll(async () => {
    await Promise.all(harnesses.map((child) => stop(child)));
    await backend?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("the first desktop sets the password, the second enters it, and playlists cross both ways", async ({
    browser,
  }) => {
    const { tokens } = await backend.account(2);
    const context = await browser.newContext();
    const studio = await context.newPage();
    const laptop = await context.newPage();
    await desktop(studio, "studio", tokens[0] as string);
    await desktop(laptop, "laptop", tokens[1] as string);

    // The first desktop: the warning first, a mismatch refused, then the password set.
    await studio.getByRole("button", { name: "Settings", exact: true }).click();
    const studioCard = studio.getByTestId("encryption-card");
    await expect(studioCard.getByText(/Nobody can recover this password/)).toBeVisible(SYNC_WAIT);
    await studioCard.getByLabel("Encryption password", { exact: true }).fill(PASSWORD);
    await studioCard.getByLabel("Repeat the password").fill("something else");
    await studioCard.getByRole("button", { name: "Encrypt with this password" }).click();
    await expect(studioCard.getByRole("alert")).toHaveText("Enter the same password twice.");
    await expectAccessible(studio);
    await studioCard.getByLabel("Repeat the password").fill(PASSWORD);
    await studioCard.getByRole("button", { name: "Encrypt with this password" }).click();
    await expect(studioCard.getByTestId("encryption-on")).toBeVisible(SYNC_WAIT);
    await createPlaylist(studio, "Sealed on the studio");
    await expect(playlist(studio, "Sealed on the studio")).toBeVisible();

    // The second desktop says it needs the password, and its one action leads there; a wrong
    // one is said plainly.
    const laptopStatus = laptop.getByTestId("sync-status");
    await expect(laptopStatus).toHaveAttribute("data-status", "locked", SYNC_WAIT);
    await expect(laptop.getByTestId("sync-status-text")).toHaveText(
      "Encrypted — enter the password to sync",
    );
    await laptop.getByTestId("sync-status-action").click();
    const laptopCard = laptop.getByTestId("encryption-card");
    await expect(laptopCard.getByTestId("encryption-locked")).toBeVisible(SYNC_WAIT);
    await laptopCard.getByLabel("Encryption password", { exact: true }).fill("not the password");
    await laptopCard.getByRole("button", { name: "Unlock" }).click();
    await expect(laptopCard.getByRole("alert")).toHaveText("That is not the encryption password.");
    await laptop.screenshot({ path: test.info().outputPath("encryption-wrong-password.png") });
    await expectAccessible(laptop);
    await laptopCard.getByLabel("Encryption password", { exact: true }).fill(PASSWORD);
    await laptopCard.getByRole("button", { name: "Unlock" }).click();
    await expect(laptopCard.getByTestId("encryption-on")).toBeVisible(SYNC_WAIT);
    await expect(laptopStatus).not.toHaveAttribute("data-status", "locked", SYNC_WAIT);

    await laptop.getByRole("button", { name: "Library", exact: true }).click();
    await expect(playlist(laptop, "Sealed on the studio")).toBeVisible(SYNC_WAIT);
    await createPlaylist(laptop, "Sealed on the laptop");
    await expect(playlist(studio, "Sealed on the laptop")).toBeVisible(SYNC_WAIT);

    // The password lost: the studio resets. What it costs is said, and nothing happens until
    // the user confirms it; then the laptop is told to enter the new password.
    await studio.getByRole("button", { name: "Settings", exact: true }).click();
    const reset = studio.getByTestId("encryption-reset");
    await reset.getByText("Lost the password?").click();
    await expect(reset.getByText(/can no longer be read/)).toBeVisible();
    const resetButton = reset.getByRole("button", { name: "Reset with a new password" });
    await expect(resetButton).toBeDisabled();
    await reset.getByLabel(/I understand/).check();
    await reset.getByLabel("New encryption password").fill("a brand new password");
    await reset.getByLabel("Repeat the password").fill("a brand new password");
    await studio.screenshot({ path: test.info().outputPath("encryption-reset.png") });
    await expectAccessible(studio);
    await resetButton.click();
    await expect(reset.getByRole("status")).toHaveText(
      "The key was reset. Enter the new password on your other computers.",
      SYNC_WAIT,
    );
    await expect(laptopStatus).toHaveAttribute("data-status", "locked", SYNC_WAIT);
    await context.close();
  });
});
