/*
 * Limits every vitest package applies (each package's vitest.config.ts spreads these). Tests
 * wait for events and conditions; a limit is only the bound a real hang reaches, sized for a
 * shared CI machine whose two cores may be busy with other work (a property test that takes
 * 1 s on a quiet machine took 7 s under load and hit vitest's 5 s default).
 */
export const testLimits = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
  teardownTimeout: 60_000,
} as const;
