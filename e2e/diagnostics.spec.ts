import { randomUUID } from "node:crypto";
import { enqueue } from "@chorus/desktop-sync/testing";
import Database from "better-sqlite3";
import { attachScreenshot, expect, type HeadlessDevice, test } from "./fixtures";
import { expectNoAxeViolations } from "./support/axe";

/*
 * "Why is this device behind?" in the browser: real headless engines put in a state, then the
 * admin console and the owner's /account say why, in plain language.
 */

/** Queues an op the server refuses for good (U+0000 cannot be stored) and lets it be refused. */
async function refusedOp(device: HeadlessDevice): Promise<void> {
  const { engine } = device;
  const db = engine.profile.db;
  db.transaction(() =>
    enqueue(
      db,
      {
        operationId: randomUUID(),
        lamportTs: engine.profile.clock.next(),
        entity: "playlist",
        entityId: randomUUID(),
        field: null,
        op: "insert",
        value: { name: "Broken\u0000name" },
      },
      Date.now(),
    ),
  )();
  await engine.pushNow();
  await expect.poll(() => device.status().quarantinedCount).toBe(1);
}

test.describe("diagnostics", () => {
  test("the console explains a stuck device", async ({
    page,
    admin: _signedInAdmin,
    devices,
  }, testInfo) => {
    test.setTimeout(120_000);
    const owner = await devices.newOwner();
    const laptop = await owner.bindDevice("Laptop", { appVersion: "2.0.1" });
    await laptop.createPlaylist("Fine");
    await refusedOp(laptop);

    await page.goto("/en/console");
    await expect(page.getByTestId("console-live")).toHaveAttribute("data-status", "live");
    await page.getByTestId("console-devices-search").fill(owner.credentials.email);
    const row = page
      .getByTestId("console-devices")
      .locator(`[data-testid="console-device"][data-device-id="${laptop.deviceId}"]`);
    await row.getByTestId("console-device-explain").click();

    const panel = page.getByTestId("console-explain");
    await expect(panel).toHaveAttribute("data-device-id", laptop.deviceId);
    const stuck = panel.locator('[data-testid="verdict"][data-code="queue_stuck"]');
    // The device's report of the refusal arrives over its socket within seconds.
    await expect(stuck).toBeVisible({ timeout: 30_000 });
    await expect(stuck).toContainText("Queue stuck: 1 operation refused by the server");
    await expect(stuck).toContainText("U+0000");
    await expect(panel.getByTestId("verdict").first()).toHaveAttribute("data-code", "queue_stuck");
    await expect(panel.getByTestId("diagnosis-socket")).toContainText("Online on");
    await attachScreenshot(page, testInfo, "console-explains-stuck-device");
    await expectNoAxeViolations(page, testInfo, "console-explain");

    // The admin revokes it from here (asked first), through the one revoke path: the engine
    // learns at once, and the audit log names who did it.
    await panel.getByTestId("console-revoke").click();
    await expect(panel.getByTestId("console-revoke-confirm")).toContainText("Revoke Laptop?");
    await panel.getByTestId("console-revoke-yes").click();
    await expect.poll(() => laptop.status().connection, { timeout: 30_000 }).toBe("revoked");
    const entry = page
      .getByTestId("console-audit")
      .locator(`[data-testid="audit-entry"][data-target-device-id="${laptop.deviceId}"]`);
    await expect(entry).toContainText("revoked Laptop");
  });

  test("the what-if in the run-now confirmation lists the device the run would push into resync", async ({
    page,
    admin: _signedInAdmin,
    devices,
    db,
  }, testInfo) => {
    test.setTimeout(150_000);
    const owner = await devices.newOwner();
    const laptop = await owner.bindDevice("Laptop");
    // The owner's tab ends on the sign-in's done page; the next sign-in starts from there.
    await expect(owner.page).toHaveURL(/desktop-login\/done/);
    const studio = await owner.bindDevice("Studio");
    const playlist = await laptop.createPlaylist("Road trip");
    await studio.caughtUpTo(await db.newestOpId(owner.userId));
    // The studio is shut (its ACK is written as its socket closes) and aged past the window.
    const studioCursor = studio.cursor();
    await studio.offline();
    await expect.poll(() => db.storedCursor(studio.deviceId)).toBe(studioCursor);
    await db.makeStale(studio.deviceId);
    for (let i = 1; i <= 3; i++) await laptop.renamePlaylist(playlist, `Road trip, take ${i}`);
    await laptop.caughtUpTo(await db.newestOpId(owner.userId));

    await page.goto(`/en/console?user=${owner.userId}`);
    const detail = page.getByTestId("user-detail");
    await expect(detail).toHaveAttribute("data-user-id", owner.userId);
    await detail.getByTestId("user-compaction-run").click();
    const whatIf = detail.getByTestId("compaction-what-if");
    await expect(whatIf).toHaveAttribute("data-count", "1");
    const item = whatIf.locator(`[data-device-id="${studio.deviceId}"]`);
    await expect(item).toContainText(`Studio (${owner.credentials.email})`);
    await expect(item).toContainText("to download");
    await expect(whatIf.locator(`[data-device-id="${laptop.deviceId}"]`)).toHaveCount(0);
    await attachScreenshot(page, testInfo, "compaction-what-if");
    await expectNoAxeViolations(page, testInfo, "compaction-what-if");
  });

  test("/account shows each device's status, lag and pending uploads", async ({
    devices,
  }, testInfo) => {
    test.setTimeout(120_000);
    const owner = await devices.newOwner();
    const laptop = await owner.bindDevice("Laptop", { appVersion: "2.0.1" });
    await laptop.createPlaylist("Synced");
    const { page } = owner;
    await page.goto("/en/account");
    const card = page.locator(`[data-testid="device"][data-device-id="${laptop.deviceId}"]`);
    const health = card.getByTestId("device-health");
    await expect(health.locator('[data-testid="verdict"][data-code="in_sync"]')).toHaveText(
      "In sync.",
      { timeout: 30_000 },
    );
    await expect(health.getByTestId("device-lag")).toHaveText("Up to date");
    await expect(health.getByTestId("device-pending")).toHaveText("Nothing waiting to upload");

    // Shut, with a change made meanwhile by a second device: the card says offline and behind.
    await laptop.offline();
    await expect(page).toHaveURL(/\/en\/account/);
    const studio = await owner.bindDevice("Studio");
    await studio.createPlaylist("Made while the laptop was shut");
    // Binding the studio approved its sign-in in this tab: back to the account page.
    await page.goto("/en/account");
    const offline = health.locator('[data-testid="verdict"][data-code="offline"]');
    await expect(offline).toContainText("Offline for");
    await expect(health.getByTestId("device-lag")).toHaveText("1 operation behind");
    await attachScreenshot(page, testInfo, "account-device-status");
    await expectNoAxeViolations(page, testInfo, "account-device-status");
  });

  test("the console flags a device whose state differs from the server's log, naming the field", async ({
    page,
    admin: _signedInAdmin,
    devices,
  }, testInfo) => {
    test.setTimeout(120_000);
    const owner = await devices.newOwner();
    const laptop = await owner.bindDevice("Laptop", { telemetryMs: 2_000 });
    const playlist = await laptop.createPlaylist("Road trip");
    // The profile's SQLite file is changed behind the engine's back: no op, nothing captured.
    const file = new Database(laptop.engine.profile.db.name);
    try {
      file
        .prepare(
          "UPDATE lww_field SET value = ? WHERE entity = 'playlist' AND entity_id = ? AND field = 'name'",
        )
        .run(JSON.stringify("Tampered"), playlist);
    } finally {
      file.close();
    }

    await page.goto("/en/console");
    await expect(page.getByTestId("console-live")).toHaveAttribute("data-status", "live");
    await page.getByTestId("console-devices-search").fill(owner.credentials.email);
    await page
      .getByTestId("console-devices")
      .locator(`[data-testid="console-device"][data-device-id="${laptop.deviceId}"]`)
      .getByTestId("console-device-explain")
      .click();
    const audit = page.getByTestId("console-explain").getByTestId("console-convergence");
    await expect(audit).toHaveAttribute("data-outcome", "none");
    // The admin asks; the device learns it from the answer to its next report and runs it.
    await audit.getByTestId("console-convergence-request").click();
    await expect(audit).toHaveAttribute("data-outcome", "mismatch", { timeout: 30_000 });
    await expect(audit.getByTestId("convergence-result")).toContainText("Mismatch at position");
    await expect(audit.getByTestId("convergence-difference")).toContainText(
      `playlist ${playlist} · name`,
    );
    await expect(audit.getByTestId("convergence-device-value")).toContainText('"Tampered"');
    await expect(audit.getByTestId("convergence-server-value")).toContainText('"Road trip"');
    // The diagnosis itself now leads with the mismatch, not "In sync": what differs and what to do.
    const panel = page.getByTestId("console-explain");
    await panel.getByTestId("console-explain-close").click();
    await page
      .getByTestId("console-devices")
      .locator(`[data-testid="console-device"][data-device-id="${laptop.deviceId}"]`)
      .getByTestId("console-device-explain")
      .click();
    const headline = panel.getByTestId("verdict").first();
    await expect(headline).toHaveAttribute("data-code", "audit_mismatch");
    await expect(headline).toContainText("Data differs from the server");
    await expect(headline).toContainText(`playlist ${playlist} · name`);
    await expect(headline).toContainText("Run a full resync");
    await expect(headline.getByTestId("verdict-runbook")).toHaveAttribute(
      "href",
      "/en/console/runbooks#convergence-audit-mismatch",
    );
    await expect(panel.locator('[data-testid="verdict"][data-code="in_sync"]')).toHaveCount(0);
    await expect(
      panel.getByTestId("device-lag-history").locator("svg[data-samples]"),
    ).toBeVisible();
    await attachScreenshot(page, testInfo, "console-convergence-mismatch");
    await expectNoAxeViolations(page, testInfo, "console-convergence-mismatch");

    // The lag and throughput histories are the server's, not this page's: they survive a reload.
    await page.reload();
    await expect(page.getByTestId("console-live")).toHaveAttribute("data-status", "live");
    const throughput = page.getByTestId("console-throughput");
    // Each replica writes a sample every 2 s here (THROUGHPUT_SAMPLE_MS); the playlist this
    // device pushed is in one of them.
    const pushedPeak = throughput.locator(
      '[data-testid="throughput-legend"][data-series="pushed"]',
    );
    await expect(async () => {
      await page.reload();
      await expect(pushedPeak).toContainText(/Peak [0-9.,]+\/s/, { timeout: 5_000 });
      await expect(pushedPeak).not.toContainText("Peak 0/s", { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await throughput.getByTestId("throughput-range-30").click();
    await expect(throughput.getByRole("radio", { name: "30 days" })).toBeChecked();
    await expect(throughput.getByTestId("throughput-chart")).toBeVisible();
    await attachScreenshot(page, testInfo, "console-throughput-history");
    await page.getByTestId("console-devices-search").fill(owner.credentials.email);
    await page
      .getByTestId("console-devices")
      .locator(`[data-testid="console-device"][data-device-id="${laptop.deviceId}"]`)
      .getByTestId("console-device-explain")
      .click();
    await expect(
      panel.getByTestId("device-lag-history").locator("svg[data-samples]"),
    ).toBeVisible();
    await expect(panel.getByTestId("verdict").first()).toHaveAttribute(
      "data-code",
      "audit_mismatch",
    );

    // Each verdict links to what to do about it.
    const runbook = panel.getByTestId("verdict").first().getByTestId("verdict-runbook");
    await expect(runbook).toHaveAttribute("href", /^\/en\/console\/runbooks#[a-z-]+$/);
    await runbook.click();
    await expect(page.getByTestId("runbooks")).toBeVisible();
    const anchor = new URL(page.url()).hash.slice(1);
    await expect(page.locator(`[id="${anchor}"]`)).toBeVisible();
    await expect(page.locator('[id="convergence-audit-mismatch"]')).toHaveText(
      "Convergence audit mismatch",
    );
    await expectNoAxeViolations(page, testInfo, "runbooks");
  });
});
