import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { fullJitterDelay } from "./backoff.js";
import { callBudget, callServer, retryDelay, verdictOf } from "./call-server.js";
import { createSyncClient } from "./client.js";
import { classifyFailure } from "./failure.js";
import { staticSession } from "./session.js";

/** An error as the tRPC client throws it when the server answered a typed sync error. */
function syncError(syncError: Record<string, unknown>): Error {
  return Object.assign(new Error(String(syncError.type)), { data: { syncError } });
}

/** An untyped tRPC error with an HTTP status (an older server, a 401, a 5xx). */
function httpError(code: string, httpStatus: number): Error {
  return new TRPCClientError(code, {
    result: { error: { message: code, code: -32600, data: { code, httpStatus } } },
  });
}

const REGRESSION = syncError({ type: "lamport_regression", storedMax: 40 });
const UNAUTHORIZED = httpError("UNAUTHORIZED", 401);
const REVOKED = syncError({ type: "device_revoked" });
const UPGRADE = syncError({
  type: "upgrade_required",
  clientVersion: 9,
  minVersion: 1,
  maxVersion: 1,
});
const RATE_LIMITED = syncError({ type: "rate_limited", retryAfterMs: 1_500 });
const OFFLINE = new Error("fetch failed");

/** A call that fails with each of `errors` in turn, then answers "done". */
function scripted(errors: unknown[]) {
  const calls: number[] = [];
  return {
    calls,
    call: async () => {
      calls.push(calls.length + 1);
      const error = errors[calls.length - 1];
      if (error !== undefined) throw error;
      return "done";
    },
  };
}

const noSleep = async () => {};

describe("callServer", () => {
  it("lamport_regression: hands storedMax to the re-stamp and tries again, within the budget", async () => {
    const { call, calls } = scripted([REGRESSION, REGRESSION, REGRESSION]);
    const observed: number[] = [];
    const budget = callBudget({ restamps: 2 });
    const outcome = await callServer(
      call,
      { tokenRejected: () => {}, restamp: (max) => observed.push(max) },
      budget,
    );
    expect(observed).toEqual([40, 40]);
    expect(calls).toHaveLength(3);
    expect(outcome).toMatchObject({ ok: false, verdict: "retry" });
    expect(budget.restamps).toBe(0);
  });

  it("lamport_regression without a re-stamp rule is not retried", async () => {
    const { call, calls } = scripted([REGRESSION]);
    const outcome = await callServer(
      call,
      { tokenRejected: () => {} },
      callBudget({ restamps: 3 }),
    );
    expect(calls).toHaveLength(1);
    expect(outcome.ok).toBe(false);
  });

  it("unauthorized: drops the token and tries again once; a second 401 is answered", async () => {
    const { call, calls } = scripted([UNAUTHORIZED, UNAUTHORIZED]);
    let rejected = 0;
    let refreshedThen = 0;
    const outcome = await callServer(call, {
      tokenRejected: () => rejected++,
      afterRefresh: () => refreshedThen++,
    });
    expect(rejected).toBe(1);
    expect(refreshedThen).toBe(1);
    expect(calls).toHaveLength(2);
    expect(outcome).toMatchObject({
      ok: false,
      verdict: "retry",
      failure: { kind: "unauthorized" },
    });
  });

  it("unauthorized then success: the value of the second try", async () => {
    const { call } = scripted([UNAUTHORIZED]);
    expect(await callServer(call, { tokenRejected: () => {} })).toEqual({
      ok: true,
      value: "done",
    });
  });

  it("revoked: never retried, whatever the budget", async () => {
    const { call, calls } = scripted([REVOKED]);
    const outcome = await callServer(
      call,
      {
        tokenRejected: () => {},
        restamp: () => {},
        resendUnanswered: { waitMs: 0 },
        sleep: noSleep,
      },
      callBudget({ restamps: 5, refreshes: 5, resends: 5, rateLimitWaits: 5 }),
    );
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ ok: false, verdict: "revoked", failure: { kind: "revoked" } });
  });

  it("upgrade_required: never retried", async () => {
    const { call, calls } = scripted([UPGRADE]);
    const outcome = await callServer(
      call,
      { tokenRejected: () => {}, resendUnanswered: { waitMs: 0 }, sleep: noSleep },
      callBudget({ resends: 5 }),
    );
    expect(calls).toHaveLength(1);
    expect(outcome).toMatchObject({ ok: false, verdict: "update_required" });
  });

  it("an unanswered call is re-sent unchanged, waiting longer each time, only when asked", async () => {
    const waits: number[] = [];
    const { call, calls } = scripted([
      OFFLINE,
      httpError("INTERNAL_SERVER_ERROR", 500),
      OFFLINE,
      OFFLINE,
    ]);
    const outcome = await callServer(
      call,
      {
        tokenRejected: () => {},
        resendUnanswered: { waitMs: 250 },
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
      callBudget({ resends: 3 }),
    );
    expect(waits).toEqual([250, 500, 750]);
    expect(calls).toHaveLength(4);
    expect(outcome).toMatchObject({ ok: false, verdict: "retry", failure: { kind: "offline" } });

    const once = scripted([OFFLINE]);
    expect((await callServer(once.call, { tokenRejected: () => {} })).ok).toBe(false);
    expect(once.calls).toHaveLength(1);
  });

  it("rate_limited: waits what the server asked and asks again, when the caller waits it out", async () => {
    const waits: number[] = [];
    const { call, calls } = scripted([RATE_LIMITED, RATE_LIMITED]);
    const outcome = await callServer(
      call,
      {
        tokenRejected: () => {},
        waitOutRateLimits: true,
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
      callBudget({ rateLimitWaits: 5 }),
    );
    expect(waits).toEqual([1_500, 1_500]);
    expect(calls).toHaveLength(3);
    expect(outcome).toEqual({ ok: true, value: "done" });
  });

  it("reports every failure, the retried ones too, and keeps the thrown error", async () => {
    const seen: string[] = [];
    const { call } = scripted([UNAUTHORIZED, REVOKED]);
    const outcome = await callServer(call, {
      tokenRejected: () => {},
      onFailure: (failure) => seen.push(failure.kind),
    });
    expect(seen).toEqual(["unauthorized", "revoked"]);
    expect(!outcome.ok && outcome.error).toBe(REVOKED);
  });
});

describe("verdictOf", () => {
  it("says which refusals are for good, and that everything else is retried later", () => {
    const verdict = (error: unknown) => verdictOf(classifyFailure(error));
    expect(verdict(syncError({ type: "invalid_input", issues: [], more: 0 }))).toBe("refused");
    expect(verdict(syncError({ type: "payload_too_large", limit: 1, actual: 2 }))).toBe("refused");
    expect(verdict(httpError("BAD_REQUEST", 400))).toBe("refused");
    expect(verdict(httpError("PAYLOAD_TOO_LARGE", 413))).toBe("refused");
    expect(verdict(httpError("UNPROCESSABLE_CONTENT", 422))).toBe("refused");
    expect(verdict(syncError({ type: "resync_required", compactedUpTo: 9 }))).toBe("resync");
    expect(verdict(UPGRADE)).toBe("update_required");
    expect(verdict(REVOKED)).toBe("revoked");
    expect(verdict(httpError("FORBIDDEN", 403))).toBe("retry");
    expect(verdict(UNAUTHORIZED)).toBe("retry");
    expect(verdict(RATE_LIMITED)).toBe("retry");
    expect(verdict(REGRESSION)).toBe("retry");
    expect(verdict(OFFLINE)).toBe("retry");
    expect(verdict(httpError("INTERNAL_SERVER_ERROR", 500))).toBe("retry");
  });
});

describe("retryDelay", () => {
  const policy = { baseMs: 100, maxMs: 1_000 };
  it("backs off exponentially with full jitter, capped", () => {
    const failure = classifyFailure(OFFLINE);
    expect(retryDelay(failure, 1, policy, () => 0.999)).toBe(99);
    expect(retryDelay(failure, 3, policy, () => 0.5)).toBe(200);
    expect(retryDelay(failure, 30, policy, () => 0.999)).toBe(999);
    expect(retryDelay(failure, 4, policy, () => 0)).toBe(0);
  });

  it("waits what a rate_limited answer asked, plus the first step's jitter", () => {
    const failure = classifyFailure(RATE_LIMITED);
    expect(retryDelay(failure, 7, policy, () => 0.5)).toBe(
      1_500 + fullJitterDelay(1, policy, () => 0.5),
    );
  });
});

describe("a proxy's error page (not the sync server's JSON)", () => {
  /** A real tRPC client against a server that answers every call with an HTML error page. */
  async function failureOf(
    status: number,
    overSocket = false,
  ): Promise<ReturnType<typeof classifyFailure>> {
    const server = createServer((_req, res) => {
      res.writeHead(status, { "content-type": "text/html" });
      res.end("<html><body>refused by a proxy</body></html>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = createSyncClient(
      staticSession({
        syncUrl: `http://127.0.0.1:${port}`,
        userId: "u",
        deviceId: "d",
        token: "t",
      }),
      // Over HTTP the proxy's page answers the push itself; over the socket, it refuses the
      // socket's upgrade.
      { callsOverSocket: overSocket },
    );
    try {
      const error = await client.trpc.sync.push.mutate({ ops: [] }).then(
        () => null,
        (e: unknown) => e,
      );
      return classifyFailure(error);
    } finally {
      await client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it("is judged by its status, not taken for offline (a proxy's 413 or 400 stuck the queue forever)", async () => {
    const tooLarge = await failureOf(413);
    expect(tooLarge).toMatchObject({ kind: "refused", code: "PAYLOAD_TOO_LARGE" });
    expect(verdictOf(tooLarge)).toBe("refused");
    expect(tooLarge.message).toMatch(/HTTP 413/);
    expect(verdictOf(await failureOf(400))).toBe("refused");
    expect(await failureOf(502)).toMatchObject({ kind: "server" });
    expect(verdictOf(await failureOf(403))).toBe("retry");
  });

  it("a push waiting for a socket that cannot open fails as offline, instead of waiting forever for it", async () => {
    expect(await failureOf(403, true)).toMatchObject({ kind: "offline" });
  });
});

describe("a server that cannot be reached", () => {
  async function offlineFailure(syncUrl: string): Promise<ReturnType<typeof classifyFailure>> {
    const client = createSyncClient(
      staticSession({ syncUrl, userId: "u", deviceId: "d", token: "t" }),
      { callsOverSocket: false },
    );
    try {
      const error = await client.trpc.sync.push.mutate({ ops: [] }).then(
        () => null,
        (e: unknown) => e,
      );
      return classifyFailure(error);
    } finally {
      await client.close();
    }
  }

  it("says why, not only 'fetch failed' (a sync server on a port fetch refuses looked merely offline)", async () => {
    // 4190 is on fetch's list of ports it never connects to: nothing listens there or not.
    const blocked = await offlineFailure("http://127.0.0.1:4190");
    expect(blocked.kind).toBe("offline");
    expect(blocked.message).toBe("the sync server cannot be reached (fetch failed: bad port)");

    // A port nobody listens on: the refusal and its address.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const refused = await offlineFailure(`http://127.0.0.1:${port}`);
    expect(refused.kind).toBe("offline");
    expect(refused.message).toBe(
      `the sync server cannot be reached (fetch failed: connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });
});
