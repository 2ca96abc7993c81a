import type { CommandHost } from "./define.js";

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Polls (bounded by `timeoutMs`) until `done`; true when it happened in time. */
export async function waitUntil(done: () => boolean, timeoutMs: number, signal?: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline || signal?.aborted) return false;
    await sleep(20, signal);
  }
  return true;
}

/** Commands that need the account fail at once, and alike, on a revoked device. */
export function refuseIfRevoked(host: CommandHost): void {
  if (host.engine.revokedAt()) throw host.engine.revokedError();
}

/** Runs until the host's signal aborts (SIGINT/SIGTERM), or the account revokes the device. */
export function untilStopped(host: CommandHost): Promise<void> {
  const { engine, signal } = host;
  return new Promise((resolve) => {
    if (signal?.aborted || engine.revokedAt()) return resolve();
    const off = engine.on(() => {
      if (engine.revokedAt()) done();
    });
    const done = () => {
      off();
      resolve();
    };
    signal?.addEventListener("abort", done, { once: true });
  });
}
