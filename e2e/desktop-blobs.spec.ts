import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
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
 * A playlist's cover image in the desktop window: two desktops (the real renderer served by
 * the dev harness, each over a real engine) of one account, bound with device tokens to a
 * sync server of the test's own. A cover chosen with the file picker on one shows on the
 * other; a cover dropped on the other replaces it on the first. The image travels as a blob.
 */

const SYNC_WAIT = { timeout: 60_000 };

let backend: DesktopBackend;
let dataDir: string;
const harnesses: ChildProcess[] = [];

/** A real PNG (one colour, `size` × `size`), so the window can show it. */
function png(size: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([
    Buffer.from([0]),
    Buffer.alloc(size * 3).map((_, i) => rgb[i % 3] as number),
  ]);
  const pixels = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(pixels)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function desktop(page: Page, name: string, token: string): Promise<void> {
  const started = await startHarness(boundHarnessEnv(dataDir, name, backend.syncUrl, token));
  harnesses.push(started.child);
  await page.goto(started.url);
  await expect(page.getByText(`Profile: ${name}`)).toBeVisible();
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

/** The cover the window shows, as the bytes of its data URL. */
async function shownCover(page: Page, name: string): Promise<Buffer> {
  const src = await page.getByRole("img", { name: `Cover of ${name}` }).getAttribute("src");
  return Buffer.from((src ?? "").replace(/^data:image\/png;base64,/, ""), "base64");
}

test.describe("playlist covers in the desktop window", () => {
  test.describe.configure({ timeout: 180_000 });

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    buildDesktopHarness();
    backend = await DesktopBackend.start();
    dataDir = mkdtempSync(join(tmpdir(), "chorus-e2e-covers-"));
  });

  test.afterAll(async () => {
    await Promise.all(harnesses.map((child) => stop(child)));
    await backend?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("a cover image set on one desktop shows on the other", async ({ browser }) => {
    const { tokens } = await backend.account(2);
    const context = await browser.newContext();
    const studio = await context.newPage();
    const laptop = await context.newPage();
    await desktop(studio, "studio", tokens[0] as string);
    await desktop(laptop, "laptop", tokens[1] as string);

    const name = "Road trip";
    await studio.getByLabel("New playlist").fill(name);
    await studio.getByRole("button", { name: "Create", exact: true }).click();
    await playlist(studio, name).click();
    await expect(studio.getByTestId("playlist-cover")).toHaveAttribute("data-state", "none");

    // Not an image: refused in the window before anything is sent.
    const notImage = join(dataDir, "notes.txt");
    writeFileSync(notImage, "not a picture");
    await studio.getByTestId("cover-file").setInputFiles(notImage);
    await expect(studio.getByRole("alert")).toHaveText(
      "Choose a PNG, JPEG, GIF or WebP image of at most 10 MB.",
    );

    // The file picker on the studio.
    const blue = png(64, [40, 90, 200]);
    const bluePath = join(dataDir, "blue.png");
    writeFileSync(bluePath, blue);
    await studio.getByTestId("cover-file").setInputFiles(bluePath);
    await expect(studio.getByRole("img", { name: `Cover of ${name}` })).toBeVisible(SYNC_WAIT);
    expect((await shownCover(studio, name)).equals(blue)).toBe(true);
    await expect(studio.getByRole("button", { name: "Remove the cover" })).toBeVisible();
    await studio.screenshot({ path: test.info().outputPath("cover-set-on-studio.png") });
    await expectAccessible(studio);

    // The laptop shows the same image, byte for byte.
    await playlist(laptop, name).click();
    await expect(laptop.getByRole("img", { name: `Cover of ${name}` })).toBeVisible(SYNC_WAIT);
    expect((await shownCover(laptop, name)).equals(blue)).toBe(true);
    await laptop.screenshot({ path: test.info().outputPath("cover-shown-on-laptop.png") });
    await expectAccessible(laptop);

    // A file dropped on the laptop's cover replaces it on both.
    const orange = png(64, [230, 120, 30]);
    // A DataTransfer holding the file, made in the page (what a drag from the desktop carries).
    const dropped = await laptop.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(orange.toString("base64"))}), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], "orange.png", { type: "image/png" }));
      return transfer;
    })()`);
    await laptop.getByTestId("playlist-cover").dispatchEvent("dragover", { dataTransfer: dropped });
    await laptop.getByTestId("playlist-cover").dispatchEvent("drop", { dataTransfer: dropped });
    await expect
      .poll(async () => (await shownCover(laptop, name)).equals(orange), SYNC_WAIT)
      .toBe(true);
    await expect
      .poll(async () => (await shownCover(studio, name)).equals(orange), SYNC_WAIT)
      .toBe(true);
    await studio.screenshot({ path: test.info().outputPath("cover-dropped-on-laptop.png") });

    // Removed on the studio: gone on the laptop.
    await studio.getByRole("button", { name: "Remove the cover" }).click();
    await expect(laptop.getByTestId("playlist-cover")).toHaveAttribute(
      "data-state",
      "none",
      SYNC_WAIT,
    );
    await context.close();
  });
});
