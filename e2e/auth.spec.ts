import {
  attachScreenshot,
  expect,
  newCredentials,
  signInThroughUi,
  signOutThroughUi,
  signUpThroughUi,
  test,
} from "./fixtures";

test.describe("accounts", () => {
  test("sign up, sign out, sign in: the header shows who is signed in", async ({ page }) => {
    const credentials = await signUpThroughUi(page);
    await expect(page.getByTestId("account-email")).toHaveText(credentials.email);
    await page.getByTestId("session-menu").click();
    await expect(page.getByTestId("session-email")).toHaveText(credentials.email);
    await page.keyboard.press("Escape");

    await signOutThroughUi(page);
    await expect(page).toHaveURL(/\/en$/);
    await page.goto("/en/account");
    await expect(page).toHaveURL(/\/en\/sign-in\?callbackUrl=%2Fen%2Faccount$/);

    await signInThroughUi(page, credentials, { goto: false });
    await expect(page).toHaveURL(/\/en\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText(credentials.email);
  });

  test("the forms validate inline and say clearly what is wrong", async ({ page }) => {
    await page.goto("/en/sign-up");
    await expect(page.locator("[data-testid=sign-up-form][data-ready]")).toBeVisible();
    await page.getByTestId("sign-up-email").fill("not-an-email");
    await page.getByTestId("sign-up-password").fill("short");
    await page.getByTestId("sign-up-password").blur();
    await expect(page.getByTestId("field-error-email_invalid")).toBeVisible();
    await expect(page.getByTestId("field-error-password_too_short")).toBeVisible();
    await expect(page.getByTestId("sign-up-email")).toHaveAttribute("aria-invalid", "true");

    const taken = await signUpThroughUi(page);
    await signOutThroughUi(page);
    await page.goto("/en/sign-up");
    await expect(page.locator("[data-testid=sign-up-form][data-ready]")).toBeVisible();
    await page.getByTestId("sign-up-email").fill(taken.email);
    await page.getByTestId("sign-up-password").fill("another password");
    await page.getByTestId("sign-up-submit").click();
    // An address that has an account gets the answer a new one gets: nothing tells them apart.
    await expect(page.getByTestId("sign-up-check-inbox")).toHaveText(
      `Check your inboxWe sent a mail to ${taken.email}. Open the link in it to confirm your address, then sign in.Sign in`,
    );

    await signInThroughUi(page, { ...taken, password: "wrong password" });
    await expect(page.getByTestId("form-error-invalid_credentials")).toBeVisible();
  });

  test("repeated wrong passwords are throttled with a countdown", async ({ page }, testInfo) => {
    const credentials = await signUpThroughUi(page, newCredentials());
    await signOutThroughUi(page);
    await page.goto("/en/sign-in");
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await signInThroughUi(
        page,
        { ...credentials, password: `wrong ${attempt}` },
        { goto: false },
      );
      await expect(page.getByTestId("form-error-invalid_credentials")).toBeVisible();
    }
    // Even the right password waits now.
    await signInThroughUi(page, credentials, { goto: false });
    const alert = page.getByTestId("form-error-throttled");
    await expect(alert).toContainText(/Try again in (\d+ min, )?\d+ sec\./);
    await expect(page.getByTestId("sign-in-submit")).toBeDisabled();
    await attachScreenshot(page, testInfo, "sign-in-throttled-en");
  });
});
