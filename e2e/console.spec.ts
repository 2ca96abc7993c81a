import { randomUUID } from "node:crypto";
import type { Locator, Page } from "@playwright/test";
import {
  attachScreenshot,
  expect,
  type HeadlessDevice,
  SYNC_URL,
  test,
  trpcQuery,
  webSyncToken,
} from "./fixtures";
import { horizontalOverflow, pageOverflow } from "./support/layout";

/*
 * The admin console against the whole system, with real headless engines of
 * packages/desktop-sync pushing and ACKing through the sync server while an admin watches.
 */

function deviceRow(page: Page, device: HeadlessDevice): Locator {
  return page
    .getByTestId("console-devices")
    .locator(`[data-testid="console-device"][data-device-id="${device.deviceId}"]`);
}

function detailDevice(page: Page, device: HeadlessDevice): Locator {
  return page
    .getByTestId("user-detail")
    .locator(`[data-testid="detail-device"][data-device-id="${device.deviceId}"]`);
}

/** Set once on the page: still there at the end only if the page was never reloaded. */
async function markDocument(page: Page): Promise<string> {
  const mark = randomUUID();
  await page.evaluate((value) => {
    (globalThis as unknown as { consoleMark: string }).consoleMark = value;
  }, mark);
  return mark;
}

const documentMark = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { consoleMark?: string }).consoleMark ?? null);

test.describe("admin console", () => {
  test("cursors move live as devices push and ACK; compaction raises the watermark; a stale device resyncs", async ({
    page,
    admin: _signedInAdmin,
    devices,
    db,
  }, testInfo) => {
    test.setTimeout(180_000);
    const owner = await devices.newOwner();
    const laptop = await owner.bindDevice("Laptop", { platform: "darwin", appVersion: "1.4.2" });
    const studio = await owner.bindDevice("Studio", { platform: "linux", appVersion: "1.3.9" });

    // The admin opens the console from the header's menu; the live feed connects.
    await expect(page.getByTestId("session-email")).toHaveCount(0);
    await page.getByTestId("session-menu").click();
    await page.getByTestId("session-console").click();
    await expect(page).toHaveURL(/\/en\/console$/);
    await expect(page.getByTestId("console-live")).toHaveAttribute("data-status", "live");
    const mark = await markDocument(page);

    // Both devices of the owner are listed (the search runs on the server).
    await page.getByTestId("console-devices-search").fill(owner.credentials.email);
    const rows = page.getByTestId("console-devices").getByTestId("console-device");
    await expect(rows).toHaveCount(2);
    await expect(deviceRow(page, laptop).getByTestId("console-device-name")).toHaveText("Laptop");
    await expect(deviceRow(page, studio).getByTestId("console-device-name")).toHaveText("Studio");
    await expect(deviceRow(page, laptop)).toHaveAttribute("data-online", "true");
    await expect(deviceRow(page, studio)).toHaveAttribute("data-online", "true");
    await expect(deviceRow(page, studio)).toHaveAttribute("data-stale", "false");

    // A push from the laptop: the studio engine receives it and ACKs, and the studio's cursor
    // moves on screen by itself.
    const studioBefore = Number(await deviceRow(page, studio).getAttribute("data-cursor"));
    const playlist = await laptop.createPlaylist("Road trip");
    const afterCreate = await db.newestOpId(owner.userId);
    expect(afterCreate).toBeGreaterThan(studioBefore);
    await studio.caughtUpTo(afterCreate);
    await expect(deviceRow(page, studio)).toHaveAttribute("data-cursor", String(afterCreate));
    await expect(deviceRow(page, studio)).toHaveAttribute("data-lag-ops", "0");

    // The owner's detail panel: watermark, dry-run preview, devices, lag chart.
    await deviceRow(page, laptop).getByRole("button").first().click();
    const detail = page.getByTestId("user-detail");
    await expect(detail).toHaveAttribute("data-user-id", owner.userId);
    await expect(detail.getByTestId("user-detail-email")).toHaveText(owner.credentials.email);
    await expect(detail.getByTestId("user-watermark")).toHaveAttribute("data-value", "0");
    await expect(detail.getByTestId("lag-chart-note")).toContainText("this session");

    // The studio is shut down (its ACKs are written when its socket closes), then aged past
    // the 90-day stale window directly in the database.
    const studioCursor = studio.cursor();
    await studio.offline();
    await expect(deviceRow(page, studio)).toHaveAttribute("data-online", "false");
    await expect.poll(() => db.storedCursor(studio.deviceId)).toBe(studioCursor);
    await db.makeStale(studio.deviceId);

    // The laptop keeps editing: superseded names pile up below its cursor.
    for (let i = 1; i <= 5; i++) await laptop.renamePlaylist(playlist, `Road trip, take ${i}`);
    const head = await db.newestOpId(owner.userId);
    await laptop.caughtUpTo(head);
    await expect(deviceRow(page, laptop)).toHaveAttribute("data-cursor", String(head));

    // The studio is flagged stale, and the preview says it would need a full resync.
    await expect(deviceRow(page, studio)).toHaveAttribute("data-stale", "true");
    await expect(deviceRow(page, studio).getByTestId("console-device-stale")).toContainText(
      "Stale for",
    );
    await expect(detailDevice(page, studio)).toHaveAttribute("data-stale", "true");
    await expect(detailDevice(page, studio)).toHaveAttribute("data-needs-resync", "true");
    await expect(
      detail.getByTestId("preview-resync").locator(`[data-device-id="${studio.deviceId}"]`),
    ).toHaveText("Studio");
    await expect(detail.getByTestId("preview-target")).toHaveAttribute("data-value", String(head));
    const opsToDelete = Number(await detail.getByTestId("preview-ops").getAttribute("data-value"));
    expect(opsToDelete).toBeGreaterThan(0);
    await expect(detail.getByTestId("lag-chart").locator("svg")).not.toHaveAttribute(
      "data-samples",
      "0",
    );

    // Run compaction now: progress, then the result; the watermark rises and the run is the
    // newest in the history.
    await detail.getByTestId("user-compaction-run").click();
    // It asks first: compaction deletes operations for good.
    await detail.getByTestId("user-compaction-confirm").click();
    const result = detail.getByTestId("compaction-result");
    await expect(result).toHaveAttribute("data-outcome", "succeeded", { timeout: 30_000 });
    await expect(result).toContainText(`${opsToDelete} operation`);
    await expect(detail.getByTestId("compaction-progress")).toHaveAttribute("data-users-done", "1");
    await expect(detail.getByTestId("user-watermark")).toHaveAttribute("data-value", String(head));
    const runId = await result.getAttribute("data-run-id");
    const newestRun = page.getByTestId("compaction-runs").getByTestId("compaction-run").first();
    await expect(newestRun).toHaveAttribute("data-run-id", runId ?? "");
    await expect(newestRun).toHaveAttribute("data-outcome", "succeeded");
    await attachScreenshot(page, testInfo, "console-en-after-compaction");

    // The studio comes back: its cursor is below the watermark, so the server answers
    // resync_required; it rebuilds from a full pull and is online again.
    await studio.online();
    await expect.poll(() => studio.resyncs, { timeout: 30_000 }).toBe(1);
    expect(studio.playlistNames()).toEqual(["Road trip, take 5"]);
    await expect(deviceRow(page, studio)).toHaveAttribute("data-online", "true");

    // The next push reaches it and it ACKs again: fresh, caught up, no longer stale.
    await laptop.renamePlaylist(playlist, "Road trip, final");
    const final = await db.newestOpId(owner.userId);
    await studio.caughtUpTo(final);
    await expect(deviceRow(page, studio)).toHaveAttribute("data-cursor", String(final));
    await expect(deviceRow(page, studio)).toHaveAttribute("data-stale", "false");
    await expect(deviceRow(page, studio)).toHaveAttribute("data-lag-ops", "0");
    await expect(detailDevice(page, studio)).toHaveAttribute("data-needs-resync", "false");

    // All of it without a reload.
    expect(await documentMark(page)).toBe(mark);
    await attachScreenshot(page, testInfo, "console-en");

    // The same console in Arabic, right to left.
    await page.goto(`/ar/console?user=${owner.userId}`);
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.getByTestId("console-title")).not.toHaveText("Admin console");
    await expect(page.getByTestId("console-live")).toHaveAttribute("data-status", "live");
    await page.getByTestId("console-devices-search").fill(owner.credentials.email);
    await expect(page.getByTestId("console-devices").getByTestId("console-device")).toHaveCount(2);
    await expect(page.getByTestId("user-detail-email")).toHaveText(owner.credentials.email);
    await attachScreenshot(page, testInfo, "console-ar");
  });

  test("a non-admin gets a localized 403 page, and the sync server refuses the admin calls", async ({
    page,
    account: _signedIn,
    request,
  }, testInfo) => {
    const response = await page.goto("/en/console");
    expect(response?.status()).toBe(403);
    await expect(page.getByTestId("forbidden")).toBeVisible();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Administrators only");
    await expect(page.getByTestId("console-devices")).toHaveCount(0);

    const arabic = await page.goto("/ar/console");
    expect(arabic?.status()).toBe(403);
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.getByRole("heading", { level: 1 })).not.toHaveText("Administrators only");
    await attachScreenshot(page, testInfo, "console-forbidden-ar");

    // Straight to the sync server with this user's own web token: FORBIDDEN, every time.
    const token = await webSyncToken(page);
    for (const path of ["admin.devices", "admin.users", "admin.compactionRuns"]) {
      const refused = await trpcQuery(request, token, path, {});
      expect(refused.status, path).toBe(403);
      expect(refused.body.error?.data?.code, path).toBe("FORBIDDEN");
    }
    const run = await request.post(`${SYNC_URL}/trpc/admin.runCompaction`, {
      headers: { authorization: `Bearer ${token}` },
      data: {},
    });
    expect(run.status()).toBe(403);
  });

  test("the devices table fits a 1280 px window in English and German, revoked rows included", async ({
    page,
    admin: _signedInAdmin,
    db,
  }, testInfo) => {
    const tag = randomUUID().slice(0, 8);
    const email = `fit-${tag}-with-a-rather-long-address@example.test`;
    await db.query(
      `WITH owner AS (
         INSERT INTO users (id, email, password_hash, updated_at)
         VALUES (gen_random_uuid(), $1, 'unused', now()) RETURNING id)
       INSERT INTO devices (id, user_id, name, platform, app_version, bound_at, last_seen_at, revoked_at)
       SELECT gen_random_uuid(), owner.id, d.name, d.platform, d.version, now() - interval '400 days',
              now() - d.seen, d.revoked
         FROM owner, (VALUES
           ('Workstation whose name goes on and on for eighty characters in total, no less!!', 'darwin',
            '12.4.10-beta.3', interval '100 days', now() - interval '3 days'),
           ('Old studio', 'linux', '1.0.0', interval '100 days', NULL::timestamptz),
           ('Laptop', 'win32', '1.4.2', interval '1 minute', NULL::timestamptz)
         ) AS d(name, platform, version, seen, revoked)`,
      [email],
    );
    try {
      await page.setViewportSize({ width: 1280, height: 900 });
      for (const locale of ["en", "de"]) {
        await page.goto(`/${locale}/console`);
        await page.getByTestId("console-devices-search").fill(`fit-${tag}-`);
        const rows = page.getByTestId("console-devices").getByTestId("console-device");
        await expect(rows).toHaveCount(3);
        // The revoked row shows its pill and date, the stale one its countdown pill.
        await expect(
          page.getByTestId("console-device-revoked-at").filter({ hasText: /\d/ }),
        ).toHaveCount(1);
        // The table's scroll container: nothing hidden off to the side.
        const wrap = page.getByTestId("console-devices").locator("table").locator("..");
        expect(await horizontalOverflow(wrap), locale).toBe(0);
        expect(await pageOverflow(page), locale).toBe(0);
        await attachScreenshot(page, testInfo, `console-devices-1280-${locale}`);
      }
    } finally {
      await db.query("DELETE FROM users WHERE email = $1", [email]);
    }
  });

  test("a user with no devices says so under the devices heading", async ({ page, admin }) => {
    await page.goto("/en/console");
    await page.getByTestId("console-users-search").fill(admin.email);
    const user = page.getByTestId("console-users").getByTestId("console-user");
    await expect(user).toHaveCount(1);
    await user.getByRole("button").first().click();
    await expect(page.getByTestId("user-detail-no-devices")).toHaveText(
      "This user has no devices yet.",
    );
    await expect(page.getByTestId("detail-device")).toHaveCount(0);
  });

  test("signed out, the console sends you to sign in and back", async ({ page }) => {
    await page.goto("/en/console");
    await expect(page).toHaveURL(/\/en\/sign-in\?callbackUrl=%2Fen%2Fconsole$/);
  });

  test("ten thousand devices: the table pages on the server and stays fast", async ({
    page,
    admin: _signedInAdmin,
    db,
    request,
  }) => {
    test.setTimeout(120_000);
    const tag = randomUUID().slice(0, 8);
    await db.query(
      `WITH owners AS (
         INSERT INTO users (id, email, password_hash, updated_at)
         SELECT gen_random_uuid(), 'scale-' || $1 || '-' || g || '@example.test', 'unused', now()
           FROM generate_series(1, 200) g
         RETURNING id)
       INSERT INTO devices (id, user_id, name, platform, app_version, bound_at)
       SELECT gen_random_uuid(), owners.id, 'Scale desktop ' || d, 'linux', '1.0.0',
              now() - (d || ' hours')::interval
         FROM owners, generate_series(1, 50) d`,
      [tag],
    );
    try {
      await page.goto("/en/console");
      await expect(page.getByTestId("console-live")).toHaveAttribute("data-status", "live");
      await expect
        .poll(async () => Number(await page.getByTestId("stat-devices").getAttribute("data-value")))
        .toBeGreaterThanOrEqual(10_000);

      await page.getByTestId("console-devices-search").fill(`scale-${tag}-`);
      const pager = page.getByTestId("console-devices-pager-range");
      await expect(pager).toHaveAttribute("data-total", "10000");
      const rows = page.getByTestId("console-devices").getByTestId("console-device");
      await expect(rows).toHaveCount(25);
      await page.getByTestId("console-sort-name").click();
      await expect(rows.first().getByTestId("console-device-name")).toHaveText("Scale desktop 1");
      await page.getByTestId("console-devices-pager-next").click();
      await expect(pager).toContainText("26–50");
      await expect(rows).toHaveCount(25);

      // One page over HTTP, timed: the answer is a page, not the fleet.
      const token = await webSyncToken(page);
      const started = Date.now();
      const response = await trpcQuery(request, token, "admin.devices", {
        pageSize: 50,
        sort: "cursor",
        direction: "desc",
      });
      const elapsed = Date.now() - started;
      expect(response.status).toBe(200);
      expect(JSON.stringify(response.body).length).toBeLessThan(60_000);
      expect(elapsed).toBeLessThan(3_000);
    } finally {
      await db.query("DELETE FROM users WHERE email LIKE $1", [`scale-${tag}-%`]);
    }
  });
});
