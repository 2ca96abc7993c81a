/*
 * How long the browser flows wait, in one place. CI runs on shared, busy machines (an argon2
 * sign-up or a cold Next.js route can take seconds there), so every wait is an upper bound
 * that only a real hang reaches, never an expectation of speed. Flows wait for conditions
 * (a URL, a visible element, a polled status) and pass as soon as they hold.
 */
export const E2E_TIMEOUTS = {
  /** One `expect(...)` or `expect.poll(...)`, unless a flow waits for something slower. */
  expect: 30_000,
  /** One click, fill or other action. */
  action: 30_000,
  /** One navigation (`page.goto`, a redirect after a form post). */
  navigation: 60_000,
  /** One test, unless it sets a longer one for several slow steps. */
  test: 120_000,
} as const;
