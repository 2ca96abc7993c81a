import { afterAll, describe, expect, it } from "vitest";
import {
  changePassword,
  deleteAccount,
  exportAccount,
  resetPassword,
  signOutEverywhere,
  verifyEmail,
} from "@/server/account-security";
import { signUp } from "@/server/accounts";
import { consumeEmailToken, hashEmailToken, issueEmailToken } from "@/server/email-tokens";
import { hashPassword, verifyPassword } from "@/server/passwords";
import { AuthThrottle } from "@/server/throttle";
import { testPrisma } from "./database";

const database = testPrisma(4);
let n = 0;
afterAll(async () => {});

const PASSWORD = "violet harbour lantern";
async function user() {
  n += 1;
  return database.prisma.user.create({
    data: {
      email: `trust${n}-${Date.now()}@example.test`,
      passwordHash: await hashPassword(PASSWORD),
    },
  });
}

describe("sign-up refuses weak passwords (zxcvbn), with a reason code", () => {
  it("'password', '12345678' and 'aaaaaaaa' are long enough but refused as password_weak", async () => {
    const mailed: string[] = [];
    for (const password of ["password", "12345678", "aaaaaaaa"]) {
      const result = await signUp(
        {
          prisma: database.prisma,
          throttle: new AuthThrottle(),
          adminEmails: [],
          sendVerification: async (u) => mailed.push(u.email),
        },
        { email: `weak${password}@example.test`, password },
        "10.0.0.9",
      );
      expect(result).toEqual({
        ok: false,
        error: "invalid",
        fieldErrors: { password: "password_weak" },
      });
    }
    expect(mailed).toEqual([]);
  });

  it("a strong password signs up, saves the page's language and mails the confirmation", async () => {
    const mailed: string[] = [];
    const result = await signUp(
      {
        prisma: database.prisma,
        throttle: new AuthThrottle(),
        adminEmails: [],
        locale: "de",
        sendVerification: async (u) => mailed.push(u.email),
      },
      { email: "strong@example.test", password: PASSWORD },
      "10.0.0.9",
    );
    expect(result.ok).toBe(true);
    expect(mailed).toEqual(["strong@example.test"]);
    const stored = await database.prisma.user.findUniqueOrThrow({
      where: { email: "strong@example.test" },
    });
    expect(stored).toMatchObject({ locale: "de", emailVerifiedAt: null });
  });
});

describe("mailed one-time links", () => {
  it("are stored hashed, work once, and not after they expire", async () => {
    const u = await user();
    const token = await issueEmailToken(database.prisma, u.id, "verify_email");
    const rows = await database.prisma.emailToken.findMany({ where: { userId: u.id } });
    expect(rows.map((row) => row.tokenHash)).toEqual([hashEmailToken(token)]);
    expect(JSON.stringify(rows)).not.toContain(token);

    expect(await verifyEmail(database.prisma, token)).toEqual({ ok: true });
    expect(
      (await database.prisma.user.findUniqueOrThrow({ where: { id: u.id } })).emailVerifiedAt,
    ).not.toBeNull();
    expect(await verifyEmail(database.prisma, token)).toEqual({ ok: false, error: "used" });
    expect(await verifyEmail(database.prisma, "not-a-token")).toEqual({
      ok: false,
      error: "invalid",
    });

    const old = await issueEmailToken(
      database.prisma,
      u.id,
      "verify_email",
      new Date(Date.now() - 49 * 3600_000),
    );
    expect(await verifyEmail(database.prisma, old)).toEqual({ ok: false, error: "expired" });
    // A verification link cannot reset a password.
    const verify = await issueEmailToken(database.prisma, u.id, "verify_email");
    expect(await consumeEmailToken(database.prisma, "reset_password", verify)).toEqual({
      ok: false,
      error: "invalid",
    });
  });

  it("of two racing uses of one link, exactly one wins", async () => {
    const u = await user();
    const token = await issueEmailToken(database.prisma, u.id, "reset_password");
    const results = await Promise.all([
      consumeEmailToken(database.prisma, "reset_password", token),
      consumeEmailToken(database.prisma, "reset_password", token),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});

describe("reset password", () => {
  it("refuses a weak password without spending the link, then sets a strong one and ends sessions", async () => {
    const u = await user();
    const token = await issueEmailToken(database.prisma, u.id, "reset_password");
    expect(await resetPassword(database.prisma, token, "12345678")).toEqual({
      ok: false,
      error: "password_weak",
    });
    expect(await resetPassword(database.prisma, token, "copper meadow whistle")).toEqual({
      ok: true,
    });
    const after = await database.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
    expect(await verifyPassword(after.passwordHash, "copper meadow whistle")).toBe(true);
    expect(after.sessionVersion).toBe(u.sessionVersion + 1);
    expect(await resetPassword(database.prisma, token, "another copper meadow")).toEqual({
      ok: false,
      error: "used",
    });
  });
});

describe("change password, sign out everywhere", () => {
  it("asks for the current password, refuses a weak new one, and ends other sessions", async () => {
    const u = await user();
    expect(await changePassword(database.prisma, u.id, "wrong", "copper meadow whistle")).toEqual({
      ok: false,
      error: "wrong_password",
    });
    expect(await changePassword(database.prisma, u.id, PASSWORD, "aaaaaaaa")).toEqual({
      ok: false,
      error: "password_weak",
    });
    expect(await changePassword(database.prisma, u.id, PASSWORD, "copper meadow whistle")).toEqual({
      ok: true,
    });
    await signOutEverywhere(database.prisma, u.id);
    const after = await database.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
    expect(after.sessionVersion).toBe(u.sessionVersion + 2);
  });
});

describe("delete account, export my data", () => {
  it("export holds the account, its desktops and ops, and no secret", async () => {
    const u = await user();
    const device = await database.prisma.device.create({
      data: { userId: u.id, name: "Laptop", platform: "linux", appVersion: "1.0.0" },
    });
    await database.prisma.syncOp.create({
      data: {
        userId: u.id,
        deviceId: device.id,
        operationId: crypto.randomUUID(),
        lamportTs: 1n,
        entity: "playlist",
        entityId: "p1",
        field: "name",
        op: "set",
        value: "Road trip",
      },
    });
    const data = await exportAccount(database.prisma, u.id);
    expect(data?.account).toMatchObject({
      id: u.id,
      email: u.email,
      devices: [{ name: "Laptop" }],
    });
    expect(data?.ops).toMatchObject([{ entity: "playlist", value: "Road trip", lamportTs: 1 }]);
    expect(JSON.stringify(data)).not.toMatch(/argon2|passwordHash|tokenHash/);
  });

  it("asks for the password, then removes the account with its ops, devices and tokens", async () => {
    const u = await user();
    const device = await database.prisma.device.create({
      data: { userId: u.id, name: "Desk", platform: "linux", appVersion: "1.0.0" },
    });
    await database.prisma.refreshToken.create({
      data: {
        tokenHash: `h-${u.id}`,
        familyId: crypto.randomUUID(),
        userId: u.id,
        deviceId: device.id,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    await issueEmailToken(database.prisma, u.id, "reset_password");
    expect(await deleteAccount(database.prisma, u.id, "wrong")).toEqual({
      ok: false,
      error: "wrong_password",
    });
    expect(await database.prisma.user.count({ where: { id: u.id } })).toBe(1);
    expect(await deleteAccount(database.prisma, u.id, PASSWORD)).toEqual({ ok: true });
    expect(await database.prisma.user.count({ where: { id: u.id } })).toBe(0);
    expect(await database.prisma.device.count({ where: { userId: u.id } })).toBe(0);
    expect(await database.prisma.refreshToken.count({ where: { userId: u.id } })).toBe(0);
    expect(await database.prisma.emailToken.count({ where: { userId: u.id } })).toBe(0);
    expect(await database.prisma.syncOp.count({ where: { userId: u.id } })).toBe(0);
  });
});
