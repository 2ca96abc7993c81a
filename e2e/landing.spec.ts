import { expect, type Page, type TestInfo, test } from "@playwright/test";

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
