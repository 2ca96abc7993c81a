import { afterAll, describe, expect, it } from "vitest";
import { promoteToAdmin, signIn, signUp, signUpAnswer } from "@/server/accounts";
import { AuthThrottle } from "@/server/throttle";
import { testPrisma } from "./database";

const database = testPrisma(4);
let counter = 0;

afterAll(async () => {});

function deps(adminEmails: string[] = [], throttle = new AuthThrottle()) {
  return { prisma: database.prisma, throttle, adminEmails };
}

function freshEmail(): string {
  counter += 1;
  return `person${counter}-${Date.now()}@example.test`;
}

describe("sign-up", () => {
  it("creates an account with a normalised email and an argon2id hash, never the password", async () => {
    const email = freshEmail();
    const result = await signUp(
      deps(),
      { email: `  ${email.toUpperCase()} `, password: "correct horse", name: " Ada " },
      "10.0.0.1",
    );
    expect(result).toMatchObject({ ok: true, user: { email, name: "Ada", role: "user" } });
    const stored = await database.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(stored.passwordHash).not.toContain("correct horse");
  });

  it("an address that already has an account gets the new address's answer; its owner gets a mail", async () => {
    const email = freshEmail();
    const told: string[] = [];
    const withMail = {
      ...deps(),
      sendAlreadyRegistered: async (owner: { email: string }) => told.push(owner.email),
    };
    const first = await signUp(withMail, { email, password: "correct horse" }, "10.0.0.1");
    const again = await signUp(
      withMail,
      { email: email.toUpperCase(), password: "another long phrase" },
      "10.0.0.1",
    );
    expect(first).toMatchObject({ ok: true, user: { email } });
    expect(again).toEqual({ ok: true, user: null });
    // What the browser is told is the same, to the byte.
    expect(JSON.stringify(signUpAnswer(again))).toBe(JSON.stringify(signUpAnswer(first)));
    expect(told).toEqual([email]);
    // The account is untouched: still one, with its own password.
    expect(await database.prisma.user.count({ where: { email } })).toBe(1);
    const kept = await signIn(deps(), { email, password: "correct horse" }, "10.0.0.2");
    expect(kept.ok).toBe(true);
  });

  it("reports invalid fields as codes the form translates", async () => {
    const result = await signUp(deps(), { email: "not-an-email", password: "short" }, "10.0.0.1");
    expect(result).toEqual({
      ok: false,
      error: "invalid",
      fieldErrors: { email: "email_invalid", password: "password_too_short" },
    });
  });

  it("makes ADMIN_EMAILS admins", async () => {
    const email = freshEmail();
    const result = await signUp(deps([email]), { email, password: "correct horse" }, "10.0.0.1");
    expect(result).toMatchObject({ ok: true, user: { role: "admin" } });
  });

  it("throttles sign-ups per address", async () => {
    const throttle = new AuthThrottle({
      signInFailuresPerEmail: { points: 5, durationSeconds: 60 },
      signInFailuresPerIp: { points: 5, durationSeconds: 60 },
      signUpsPerIp: { points: 2, durationSeconds: 60 },
    });
    for (let i = 0; i < 2; i += 1) {
      const ok = await signUp(
        deps([], throttle),
        { email: freshEmail(), password: "correct horse" },
        "10.0.0.9",
      );
      expect(ok.ok).toBe(true);
    }
    const third = await signUp(
      deps([], throttle),
      { email: freshEmail(), password: "correct horse" },
      "10.0.0.9",
    );
    expect(third).toMatchObject({ ok: false, error: "throttled" });
    if (!third.ok && third.error === "throttled") {
      expect(third.retryAfterSeconds).toBeGreaterThan(0);
      expect(third.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    const elsewhere = await signUp(
      deps([], throttle),
      { email: freshEmail(), password: "correct horse" },
      "10.0.0.10",
    );
    expect(elsewhere.ok).toBe(true);
  });
});

describe("sign-in", () => {
  it("accepts the right password and refuses a wrong one or an unknown email alike", async () => {
    const email = freshEmail();
    await signUp(deps(), { email, password: "correct horse" }, "10.0.1.1");
    const ok = await signIn(deps(), { email: email.toUpperCase(), password: "correct horse" }, "x");
    expect(ok).toMatchObject({ ok: true, user: { email } });
    expect(await signIn(deps(), { email, password: "wrong horse" }, "x")).toEqual({
      ok: false,
      error: "invalid_credentials",
    });
    expect(await signIn(deps(), { email: freshEmail(), password: "correct horse" }, "x")).toEqual({
      ok: false,
      error: "invalid_credentials",
    });
  });

  it("after 5 wrong passwords for an email, refuses even the right one for a while", async () => {
    const email = freshEmail();
    const throttle = new AuthThrottle();
    await signUp(deps([], throttle), { email, password: "correct horse" }, "10.0.2.1");
    for (let i = 0; i < 5; i += 1) {
      // From different addresses: the per-email budget is what stops this.
      const failed = await signIn(deps([], throttle), { email, password: "nope" }, `10.0.2.${i}`);
      expect(failed).toEqual({ ok: false, error: "invalid_credentials" });
    }
    const blocked = await signIn(
      deps([], throttle),
      { email, password: "correct horse" },
      "10.0.3.1",
    );
    expect(blocked).toMatchObject({ ok: false, error: "throttled" });
    if (!blocked.ok && blocked.error === "throttled") {
      expect(blocked.retryAfterSeconds).toBeGreaterThan(200);
      expect(blocked.retryAfterSeconds).toBeLessThanOrEqual(300);
    }
  });

  it("a right password clears the email's failures", async () => {
    const email = freshEmail();
    const throttle = new AuthThrottle();
    await signUp(deps([], throttle), { email, password: "correct horse" }, "10.0.4.1");
    for (let i = 0; i < 4; i += 1) {
      await signIn(deps([], throttle), { email, password: "nope" }, "10.0.4.1");
    }
    expect(
      (await signIn(deps([], throttle), { email, password: "correct horse" }, "10.0.4.1")).ok,
    ).toBe(true);
    const afterReset = await signIn(deps([], throttle), { email, password: "nope" }, "10.0.4.1");
    expect(afterReset).toEqual({ ok: false, error: "invalid_credentials" });
  });

  it("throttles one address guessing across many accounts", async () => {
    const throttle = new AuthThrottle({
      signInFailuresPerEmail: { points: 5, durationSeconds: 60 },
      signInFailuresPerIp: { points: 3, durationSeconds: 60 },
      signUpsPerIp: { points: 10, durationSeconds: 60 },
    });
    for (let i = 0; i < 3; i += 1) {
      await signIn(deps([], throttle), { email: freshEmail(), password: "guess" }, "10.0.5.5");
    }
    const blocked = await signIn(
      deps([], throttle),
      { email: freshEmail(), password: "guess" },
      "10.0.5.5",
    );
    expect(blocked).toMatchObject({ ok: false, error: "throttled" });
  });

  it("promotes ADMIN_EMAILS at sign-in, and promoteToAdmin promotes anyone", async () => {
    const email = freshEmail();
    await signUp(deps(), { email, password: "correct horse" }, "10.0.6.1");
    const promoted = await signIn(deps([email]), { email, password: "correct horse" }, "x");
    expect(promoted).toMatchObject({ ok: true, user: { role: "admin" } });

    const other = freshEmail();
    await signUp(deps(), { email: other, password: "correct horse" }, "10.0.6.1");
    expect(await promoteToAdmin(database.prisma, other.toUpperCase())).toBe(true);
    expect((await database.prisma.user.findUniqueOrThrow({ where: { email: other } })).role).toBe(
      "admin",
    );
    expect(await promoteToAdmin(database.prisma, freshEmail())).toBe(false);
  });
});
