import { describe, expect, it } from "vitest";
import { createSyncTokenSource, SessionEndedError } from "@/lib/sync-token-source";

function tokenResponse(token: string, expiresAt: number): Response {
  return Response.json({
    token,
    expiresAt: new Date(expiresAt).toISOString(),
    syncUrl: "http://sync",
  });
}

describe("the browser's sync-token source", () => {
  it("reuses a token until 30 s before it expires, then fetches a new one", async () => {
    let clock = 0;
    let fetches = 0;
    const source = createSyncTokenSource(
      async () => tokenResponse(`t${++fetches}`, 300_000),
      () => clock,
    );
    expect(await source.get()).toBe("t1");
    clock = 260_000;
    expect(await source.get()).toBe("t1");
    clock = 271_000;
    expect(await source.get()).toBe("t2");
  });

  it("fetches once for concurrent callers, and again after invalidate()", async () => {
    let fetches = 0;
    const source = createSyncTokenSource(async () =>
      tokenResponse(`t${++fetches}`, Date.now() + 300_000),
    );
    const [a, b] = await Promise.all([source.get(), source.get()]);
    expect([a, b, fetches]).toEqual(["t1", "t1", 1]);
    source.invalidate();
    expect(await source.get()).toBe("t2");
  });

  it("says the session ended on 401, and fails plainly otherwise", async () => {
    const ended = createSyncTokenSource(async () => new Response("{}", { status: 401 }));
    await expect(ended.get()).rejects.toBeInstanceOf(SessionEndedError);
    const broken = createSyncTokenSource(async () => new Response("{}", { status: 500 }));
    await expect(broken.get()).rejects.toThrow(/HTTP 500/);
  });
});
