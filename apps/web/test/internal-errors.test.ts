import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrisma } from "@chorus/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AuthThrottle } from "@/server/throttle";

/*
 * The web app on a database it cannot reach: its API answers a typed error with a request id,
 * and sign-in reports `server_error:<id>`; the database driver's text stays in the log.
 */
const UNREACHABLE = "postgresql://postgres@127.0.0.1:9/unreachable";
const DRIVER_TEXT = /reach|ECONNREFUSED|127\.0\.0\.1:9|prisma|database server/i;

const logged: string[] = [];
beforeAll(() => {
  process.env.DATABASE_URL = UNREACHABLE;
  process.env.CHORUS_ENV = "local";
  process.env.CHORUS_DEV_KEY_FILE = join(mkdtempSync(join(tmpdir(), "chorus-web-")), "key.json");
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    logged.push(String(line));
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe("internal errors in the web app", () => {
  it("database error text does not leak from the token endpoint's 500; a request id does", async () => {
    const { POST } = await import("@/app/api/desktop/token/route");
    const response = await POST(
      new Request("http://127.0.0.1/api/desktop/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "refresh_token", refresh_token: "x".repeat(43) }),
      }),
    );
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(DRIVER_TEXT);
    const body = JSON.parse(text) as { error: string; request_id: string };
    expect(body.error).toBe("server_error");
    expect(response.headers.get("x-request-id")).toBe(body.request_id);
    const line = logged.find((entry) => entry.includes(body.request_id));
    expect(line).toMatch(DRIVER_TEXT);
  });

  it("database error text does not leak through sign-in's error code", async () => {
    const { authorizeCredentials } = await import("@/server/auth-options");
    const prisma = createPrisma(UNREACHABLE, { max: 1 });
    try {
      const failure = await authorizeCredentials(
        { prisma, throttle: new AuthThrottle(), adminEmails: [] },
        { email: "someone@example.test", password: "correct horse" },
        { "x-forwarded-for": "192.0.2.1" },
      ).catch((error: unknown) => error as Error);
      expect(failure).toBeInstanceOf(Error);
      const message = (failure as Error).message;
      expect(message).toMatch(/^server_error:[0-9a-f-]{36}$/);
      const requestId = message.slice("server_error:".length);
      expect(logged.find((entry) => entry.includes(requestId))).toMatch(DRIVER_TEXT);
    } finally {
      await prisma.$disconnect();
    }
  });
});
