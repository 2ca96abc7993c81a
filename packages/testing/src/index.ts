import type { ChildProcess } from "node:child_process";

/**
 * How long a test waits for something that should happen. Only a real hang reaches it: a CI
 * machine shared with other jobs can be ten times slower than a laptop, and a wait that ends
 * as soon as its condition holds costs nothing for being generous.
 */
export const WAIT_BOUND_MS = 60_000;

/** Thrown when a wait reaches its bound; the message names what was awaited. */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";

  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/**
 * Resolves after `ms`. For pacing (jitter between requests, load spread over time), never to
 * give something time to happen: wait for the thing itself with waitUntil/waitFor.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  /** Upper bound; default WAIT_BOUND_MS. */
  timeoutMs?: number;
  /** Pause between two checks (waitUntil only); default 10 ms. */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns true and resolves with the milliseconds that took. A check that
 * throws ends the wait with that error. Fails with a WaitTimeoutError naming `what` at the bound.
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? WAIT_BOUND_MS;
  const intervalMs = options.intervalMs ?? 10;
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new WaitTimeoutError(what, timeoutMs);
    await sleep(intervalMs);
  }
  return Date.now() - started;
}

/**
 * Waits for an event. `listen` subscribes, calls `resolve` (or `reject`) when the event comes
 * and may return a function that unsubscribes; it runs once the wait ends, however it ends.
 */
export function waitFor<T>(
  what: string,
  listen: (resolve: (value: T) => void, reject: (error: Error) => void) => (() => void) | undefined,
  options: Pick<WaitOptions, "timeoutMs"> = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_BOUND_MS;
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      settle();
    };
    const timer = setTimeout(
      () => finish(() => reject(new WaitTimeoutError(what, timeoutMs))),
      timeoutMs,
    );
    try {
      unsubscribe = listen(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
      // The event came (or failed) while subscribing: unsubscribe now.
      if (settled) unsubscribe?.();
    } catch (error) {
      finish(() => reject(error as Error));
    }
  });
}

interface Emitter {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Waits for `emitter` to emit `event`; resolves with the event's arguments. */
export function waitForEvent(
  emitter: Emitter,
  event: string,
  what = `the "${event}" event`,
  options: Pick<WaitOptions, "timeoutMs"> = {},
): Promise<unknown[]> {
  return waitFor<unknown[]>(
    what,
    (resolve) => {
      const listener = (...args: unknown[]) => resolve(args);
      emitter.once(event, listener);
      return () => emitter.off(event, listener);
    },
    options,
  );
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Waits for a child process to exit (at once if it already has). */
export function waitForExit(
  child: ChildProcess,
  what = `process ${child.pid ?? "?"} to exit`,
  options: Pick<WaitOptions, "timeoutMs"> = {},
): Promise<ExitStatus> {
  return waitFor<ExitStatus>(
    what,
    (resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve({ code: child.exitCode, signal: child.signalCode });
        return undefined;
      }
      const listener = (code: number | null, signal: NodeJS.Signals | null) =>
        resolve({ code, signal });
      child.once("exit", listener);
      return () => child.off("exit", listener);
    },
    options,
  );
}
