import { expect, type Page, type TestInfo, test } from "@playwright/test";
import { lineBreaking, pageOverflow } from "./support/layout";

async function attachScreenshot(page: Page, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

test.describe("landing page", () => {
  test.use({ locale: "en-US" });

  test("/ lands on the English page, and the switcher turns it into right-to-left Arabic", async ({
    page,
  }, testInfo) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/en$/);
    const html = page.locator("html");
    await expect(html).toHaveAttribute("lang", "en");
    await expect(html).toHaveAttribute("dir", "ltr");

    await expect(page.getByTestId("landing-title")).toBeVisible();
    const cta = page.getByTestId("landing-cta");
    await expect(cta).toBeVisible();
    await expect(cta).toHaveAttribute("href", "/en/sign-up");
    // Both calls to action take a newcomer to sign-up, not to "Welcome back".
    await expect(page.getByTestId("landing-cta-bottom")).toHaveAttribute("href", "/en/sign-up");
    await attachScreenshot(page, testInfo, "landing-en");

    await page.getByTestId("locale-switcher").selectOption("ar");
    await expect(page).toHaveURL(/\/ar$/);
    await expect(html).toHaveAttribute("dir", "rtl");
    await expect(html).toHaveAttribute("lang", "ar");
    await expect(page.getByTestId("landing-title")).toBeVisible();
    await expect(page.getByTestId("landing-title")).not.toHaveText(/One profile/);
    await expect(page.getByTestId("landing-cta")).toHaveAttribute("href", "/ar/sign-up");
    await attachScreenshot(page, testInfo, "landing-ar");
  });
});

test.describe("landing page for a Brazilian browser", () => {
  test.use({ locale: "pt-BR" });

  test("/ picks the browser's language", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/pt-BR$/);
    await expect(page.locator("html")).toHaveAttribute("lang", "pt-BR");
    await expect(page.getByTestId("landing-cta")).toHaveAttribute("href", "/pt-BR/sign-up");
  });
});

test.describe("pages of their own", () => {
  test("an unknown page says so in its title and answers 404, in the reader's language", async ({
    page,
  }) => {
    const english = await page.goto("/en/no-such-page");
    expect(english?.status()).toBe(404);
    await expect(page).toHaveTitle("Page not found · Chorus");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
    const german = await page.goto("/de/no-such-page");
    expect(german?.status()).toBe(404);
    await expect(page).toHaveTitle("Seite nicht gefunden · Chorus");
    await page.goto("/en");
    await expect(page).not.toHaveTitle(/Page not found/);
  });
});

test.describe("Japanese on a phone", () => {
  test.use({ locale: "ja-JP", viewport: { width: 390, height: 844 } });

  test("headlines break between phrases, never inside a word, and never overflow", async ({
    page,
  }, testInfo) => {
    await page.goto("/ja");
    await expect(page.locator("html")).toHaveAttribute("lang", "ja");
    const title = page.getByTestId("landing-title");
    await expect(title).toBeVisible();
    const headings = await lineBreaking(page.locator("h1, h2, h3"));
    expect(headings.length).toBeGreaterThan(1);
    for (const heading of headings) {
      // Chromium segments Japanese into phrases (auto-phrase); elsewhere keep-all.
      expect(["auto-phrase", "keep-all"]).toContain(heading.wordBreak);
      expect(heading.lineBreak).toBe("strict");
      expect(heading.overflow).toBe(0);
    }
    expect(await pageOverflow(page)).toBe(0);
    await attachScreenshot(page, testInfo, "landing-ja-phone");
  });
});
