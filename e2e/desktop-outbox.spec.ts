import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RefusingProxy } from "@chorus/testing/refusing-proxy";
import type { Page } from "@playwright/test";
import { attachScreenshot, expect, test } from "./fixtures";
import { expectNoAxeViolations } from "./support/axe";
import {
  boundHarnessEnv,
  buildDesktopHarness,
  DesktopBackend,
  deviceCli,
  startHarness,
  stop,
} from "./support/desktop-backend.ts";

/*
 * The desktop's outbox and a field's history, in the real renderer (the dev harness) over a
 * real engine, with a second, headless engine (the CLI) of the same user. The harness reaches
 * its sync server through a filtering proxy that refuses uploads which look like script (as a
 * firewall rule answers 400): a real refusal for good, and a cause that can be fixed (the rule
 * lifted).
 */

const SYNC_WAIT = { timeout: 60_000 };
const blocksScript = (body: string) => body.includes("<script>");

let backend: DesktopBackend;
let proxy: RefusingProxy;
let dataDir: string;
let harness: ChildProcess | undefined;
let harnessUrl: string;
let laptop: (...args: string[]) => string;

/** The laptop's playlists after a one-shot sync. */
function laptopPlaylists(): string[] {
  laptop("sync", "--profile", "laptop", "--timeout-ms", "3000");
  const library = JSON.parse(laptop("library", "--profile", "laptop"));
  return library.playlists.map((p: { name: string }) => p.name).sort();
}

async function snapshot(page: Page, name: string): Promise<void> {
  await attachScreenshot(page, test.info(), name);
  await expectNoAxeViolations(page, test.info(), name);
}

async function createPlaylist(page: Page, name: string): Promise<void> {
  await page.getByRole("button", { name: "Library", exact: true }).click();
  await page.getByLabel("New playlist").fill(name);
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await expect(
    page.getByTestId("playlists").getByRole("button", { name: new RegExp(name) }),
  ).toBeVisible();
}

test.describe("the desktop outbox and field history", () => {
  test.describe.configure({ mode: "serial", timeout: 120_000 });

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    buildDesktopHarness();
    backend = await DesktopBackend.start();
    proxy = await RefusingProxy.start(backend.syncUrl, blocksScript);
    const { tokens } = await backend.account(2);
    dataDir = mkdtempSync(join(tmpdir(), "chorus-e2e-outbox-"));
    const started = await startHarness({
      ...boundHarnessEnv(dataDir, "studio", proxy.url, tokens[0] as string),
      CHORUS_DATA_DIR: join(dataDir, "harness"),
      // Its uploads go over HTTP, where the proxy's rule can see them (it cannot see into
      // the socket, which it passes through): the desktop stays connected.
      CHORUS_DEV_UPLOADS: "http",
    });
    harness = started.child;
    harnessUrl = started.url;
    laptop = deviceCli(dataDir);
    laptop("profile", "create", "laptop");
    laptop(
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
    await proxy?.close();
    await backend?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("the desktop outbox retries a quarantined op after the cause is fixed", async ({ page }) => {
    await page.goto(harnessUrl);
    await expect(page.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");
    await createPlaylist(page, "<script> mix");

    await page.getByRole("button", { name: "Sync diagnostics" }).click();
    const refused = page.getByTestId("outbox-refused");
    await expect(refused).toHaveCount(1, SYNC_WAIT);
    await expect(refused).toContainText("Playlist created");
    await expect(refused).toContainText("the server said: HTTP 400");
    await expect(page.getByTestId("quarantined-count")).toHaveText("1");
    await snapshot(page, "desktop-outbox-refused");

    // The cause is fixed (the proxy's rule is lifted); Retry sends the same change again.
    proxy.rule = null;
    await refused.getByRole("button", { name: "Retry “Playlist created”" }).click();
    await expect(page.getByTestId("outbox-said")).toHaveText(
      "“Playlist created” is back in the queue and is being uploaded.",
    );
    await expect(refused).toHaveCount(0);
    await expect(page.getByTestId("pending-count")).toHaveText("Nothing waiting", SYNC_WAIT);
    await expect(page.getByTestId("quarantined-count")).toHaveText("0");
    await expect.poll(laptopPlaylists, SYNC_WAIT).toEqual(["<script> mix"]);
    await snapshot(page, "desktop-outbox-retried");
  });

  test("discarding a refused change asks first, says what is lost, and shows the server's state again", async ({
    page,
  }) => {
    proxy.rule = blocksScript;
    await page.goto(harnessUrl);
    await createPlaylist(page, "<script> two");
    await page.getByRole("button", { name: "Sync diagnostics" }).click();
    const refused = page.getByTestId("outbox-refused");
    await expect(refused).toHaveCount(1, SYNC_WAIT);

    await refused.getByRole("button", { name: "Discard “Playlist created”" }).click();
    const confirm = page.getByTestId("outbox-discard-confirm");
    await expect(confirm).toHaveText(
      "Discard “Playlist created”? It will never be uploaded, and this computer will show the server’s value for this item again (the last synced one). This cannot be undone.",
    );
    const yes = page.getByTestId("outbox-discard-yes");
    await expect(yes).toBeFocused();
    await snapshot(page, "desktop-outbox-discard-confirm");
    // "Keep it" changes nothing.
    await page.getByRole("button", { name: "Keep it" }).click();
    await expect(confirm).toHaveCount(0);
    await expect(refused).toHaveCount(1);

    await refused.getByRole("button", { name: "Discard “Playlist created”" }).click();
    await page.getByTestId("outbox-discard-yes").click();
    const said = page.getByTestId("outbox-said");
    await expect(said).toHaveText(
      "“Playlist created” was discarded; this computer shows the server’s values again.",
    );
    await expect(said).toBeFocused();
    await expect(refused).toHaveCount(0);
    await snapshot(page, "desktop-outbox-discarded");

    // What was lost: the playlist made here; what the server has stays.
    await page.getByRole("button", { name: "Library", exact: true }).click();
    const playlists = page.getByTestId("playlists");
    await expect(playlists.getByRole("button", { name: /<script> mix/ })).toBeVisible();
    await expect(playlists.getByRole("button", { name: /<script> two/ })).toHaveCount(0);
    expect(laptopPlaylists()).toEqual(["<script> mix"]);
  });

  test("an overwritten value's history, and restoring it as a new edit that reaches the other desktop", async ({
    page,
  }) => {
    proxy.rule = null;
    await page.goto(harnessUrl);
    await createPlaylist(page, "Evening");
    await expect(page.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");
    await expect.poll(laptopPlaylists, SYNC_WAIT).toContain("Evening");
    const list = JSON.parse(laptop("playlist", "list", "--profile", "laptop")) as Array<{
      id: string;
      name: string;
    }>;
    const evening = list.find((p) => p.name === "Evening")?.id ?? "";
    laptop("playlist", "rename", evening, "Laptop evening", "--profile", "laptop");

    await page
      .getByTestId("playlists")
      .getByRole("button", { name: /Laptop evening/ })
      .click();
    const notice = page.getByTestId("overwritten-notice");
    await expect(notice).toHaveAttribute("data-outcome", "lost", SYNC_WAIT);
    await expect(notice.locator("p")).toHaveText(
      /^Your change here, “Evening”, was replaced by “Laptop evening” from e2e desktop 2, .+\.$/,
      SYNC_WAIT,
    );

    await notice.getByRole("button", { name: "History" }).click();
    const versions = notice.getByTestId("field-version");
    await expect(versions).toHaveCount(2);
    await expect(versions.nth(0)).toHaveText("“Laptop evening” from e2e desktop 2 (now)");
    await expect(versions.nth(1)).toContainText(
      "“Evening” from this desktop, replaced by e2e desktop 2",
    );
    await expect(versions.nth(1).getByRole("button", { name: "Restore “Evening”" })).toBeVisible();
    await snapshot(page, "desktop-field-history");

    await notice.getByTestId("overwritten-restore").click();
    await expect(page.locator("#playlist-heading")).toHaveText("Evening");
    await expect(page.getByTestId("overwritten-said")).toHaveText(
      "“Evening” restored; it syncs to your other desktops.",
    );
    await expect(page.getByTestId("overwritten-notice")).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Rename", exact: true })).toBeFocused();
    await expect(page.getByTestId("sync-status")).toHaveAttribute("data-status", "synced");
    await expect.poll(laptopPlaylists, SYNC_WAIT).toContain("Evening");
    expect(laptopPlaylists()).not.toContain("Laptop evening");
    await snapshot(page, "desktop-value-restored");
  });
});
