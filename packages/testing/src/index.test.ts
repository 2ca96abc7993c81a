import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { WaitTimeoutError, waitFor, waitForEvent, waitForExit, waitUntil } from "./index.js";

describe("waitUntil", () => {
  it("resolves once the condition holds", async () => {
    let calls = 0;
    await waitUntil("the third check", () => ++calls === 3);
    expect(calls).toBe(3);
  });

  it("names what it waited for when the bound is reached", async () => {
    // A bound this short only because reaching it is what this test is about.
    const failure = await waitUntil("the moon to turn blue", () => false, { timeoutMs: 20 }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WaitTimeoutError);
    expect((failure as Error).message).toBe(
      "timed out after 20 ms waiting for the moon to turn blue",
    );
  });

  it("ends with the error of a check that throws", async () => {
    await expect(
      waitUntil("a broken check", () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
  });
});

describe("waitFor", () => {
  it("resolves with the event's value and unsubscribes", async () => {
    const emitter = new EventEmitter();
    const waiting = waitForEvent(emitter, "ready");
    expect(emitter.listenerCount("ready")).toBe(1);
    emitter.emit("ready", 42);
    expect(await waiting).toEqual([42]);
    expect(emitter.listenerCount("ready")).toBe(0);
  });

  it("unsubscribes when the bound is reached", async () => {
    const emitter = new EventEmitter();
    await expect(waitForEvent(emitter, "never", "nothing", { timeoutMs: 20 })).rejects.toThrow(
      "waiting for nothing",
    );
    expect(emitter.listenerCount("never")).toBe(0);
  });

  it("passes on a rejection", async () => {
    await expect(
      waitFor("a failure", (_resolve, reject) => {
        reject(new Error("refused"));
        return undefined;
      }),
    ).rejects.toThrow("refused");
  });
});

describe("waitForExit", () => {
  it("reports the exit code, also of a process that has already exited", async () => {
    const child = spawn(process.execPath, ["-e", "process.exit(3)"], { stdio: "ignore" });
    expect(await waitForExit(child)).toEqual({ code: 3, signal: null });
    expect(await waitForExit(child)).toEqual({ code: 3, signal: null });
  });
});
