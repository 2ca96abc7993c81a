import { type BackoffPolicy, fullJitterDelay } from "./backoff.js";
import { classifyFailure, type SyncFailure } from "./failure.js";

/*
 * The one policy for talking to the sync server. Every request the engine makes (the drain's
 * pushes, server-connected writes, the pages of a full pull) goes through callServer, and the
 * subscription's failures are judged by the same verdictOf / retryDelay, so the rules below
 * are written once:
 *
 * - lamport_regression: the caller observes the server's stored maximum and re-stamps what it
 *   sends, then the call is tried again (a bounded number of times);
 * - unauthorized: the session drops its access token (the next call refreshes it) and the call
 *   is tried again, once;
 * - revoked: final until the profile is bound again: never retried;
 * - upgrade_required: only an update changes the answer: never retried;
 * - refusals for good (invalid_input, payload_too_large, an untyped 400/413/422): retrying the
 *   same request cannot help; the caller sets the request aside or says so;
 * - no answer (offline, 5xx): the server may have done it; a caller that must know re-sends
 *   the same request (same operation ids) a few times, otherwise it backs off;
 * - rate_limited: wait what the server asked (a caller may wait it out in the call);
 * - everything else: back off exponentially with full jitter.
 */

/** What a failed call means for whoever made it. */
export type Verdict =
  /** The account revoked this device: stop for good (until a new sign-in). */
  | "revoked"
  /** The server does not serve this build's protocol: stop until the app is updated. */
  | "update_required"
  /** History this device needs was compacted away: rebuild from a full pull. */
  | "resync"
  /** This request can never succeed as it is: set it aside, split it, or tell the user. */
  | "refused"
  /** Not the request's fault (offline, 5xx, rate limits, a token still refused): retry later. */
  | "retry";

/**
 * 4xx codes that mean the request itself is refused for good: untyped ones (older servers),
 * and the blob endpoints' size and quota refusals (the same file will never fit).
 */
const REFUSED_FOR_GOOD = new Set([
  "PAYLOAD_TOO_LARGE",
  "BAD_REQUEST",
  "UNPROCESSABLE_CONTENT",
  "blob_too_large",
  "quota_exceeded",
  "local_file_changed",
]);

export function verdictOf(failure: SyncFailure): Verdict {
  if (failure.kind === "revoked") return "revoked";
  if (failure.kind === "sync") {
    switch (failure.error.type) {
      case "upgrade_required":
        return "update_required";
      case "resync_required":
        return "resync";
      case "invalid_input":
      case "payload_too_large":
        return "refused";
      default:
        return "retry";
    }
  }
  if (failure.kind === "refused" && REFUSED_FOR_GOOD.has(failure.code)) return "refused";
  return "retry";
}

/**
 * True when the server refused a push because the account's key is not the one its values were
 * sealed under (`key_epoch_stale`: a reset on another device, or plaintext while the account
 * has a key; `key_missing`: sealed while it has none). Nothing was stored; the edits are not at
 * fault: the device reads the key state again and pushes them under the current key (ADR 0026).
 */
export function keyChanged(failure: SyncFailure): boolean {
  return (
    failure.kind === "sync" &&
    (failure.error.type === "key_epoch_stale" || failure.error.type === "key_missing")
  );
}

/** True when no answer came back: the server may have done what was asked. */
export function unanswered(failure: SyncFailure): boolean {
  return failure.kind === "offline" || failure.kind === "server";
}

/**
 * How long to wait before the next try after `failures` failures in a row: what a
 * rate_limited answer asked plus a little jitter, else exponential backoff with full jitter.
 */
export function retryDelay(
  failure: SyncFailure,
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  if (failure.kind === "sync" && failure.error.type === "rate_limited") {
    return failure.error.retryAfterMs + fullJitterDelay(1, policy, random);
  }
  return fullJitterDelay(failures, policy, random);
}

/** How many of each retry one unit of work (a drain, a write, a page) may still spend. */
export interface CallBudget {
  /** lamport_regression answers followed by a re-stamp and another try. */
  restamps: number;
  /** 401 answers followed by a token refresh and another try. */
  refreshes: number;
  /** Unanswered calls sent again as they were (only with `resendUnanswered`). */
  resends: number;
  /** rate_limited answers waited out in the call (only with `waitOutRateLimits`). */
  rateLimitWaits: number;
}

/** Refresh once; no re-stamps, re-sends or waits unless asked for. */
export function callBudget(overrides: Partial<CallBudget> = {}): CallBudget {
  return { restamps: 0, refreshes: 1, resends: 0, rateLimitWaits: 0, ...overrides };
}

export interface CallRules {
  /** 401: drop the cached access token so the next try refreshes it. */
  tokenRejected(): void;
  /**
   * lamport_regression: observe `storedMax` and re-stamp what the call sends. Without it a
   * regression is not retried here.
   */
  restamp?(storedMax: number): void;
  /** After a refresh, before the next try (a server-connected write re-stamps here). */
  afterRefresh?(): void;
  /** Re-send an unanswered call unchanged, after waitMs × the sends so far. */
  resendUnanswered?: { waitMs: number };
  /** Wait out a rate_limited answer's retryAfterMs and ask again. */
  waitOutRateLimits?: boolean;
  /** Every failure, including the ones retried here. */
  onFailure?(failure: SyncFailure): void;
  sleep?(ms: number): Promise<void>;
}

export type CallOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; failure: SyncFailure; verdict: Verdict; error: unknown };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Makes one call to the server under the policy: retries what the rules and the budget allow,
 * and answers the value or the last failure with its verdict. Never throws what the call
 * threw; the caller decides what the verdict means for it.
 */
export async function callServer<T>(
  call: () => Promise<T>,
  rules: CallRules,
  budget: CallBudget = callBudget(),
): Promise<CallOutcome<T>> {
  const sleep = rules.sleep ?? defaultSleep;
  let sends = 0;
  for (;;) {
    try {
      return { ok: true, value: await call() };
    } catch (error) {
      const failure = classifyFailure(error);
      rules.onFailure?.(failure);
      if (
        failure.kind === "sync" &&
        failure.error.type === "lamport_regression" &&
        rules.restamp &&
        budget.restamps > 0
      ) {
        budget.restamps -= 1;
        rules.restamp(failure.error.storedMax);
        continue;
      }
      if (failure.kind === "unauthorized" && budget.refreshes > 0) {
        budget.refreshes -= 1;
        rules.tokenRejected();
        rules.afterRefresh?.();
        continue;
      }
      if (rules.resendUnanswered && unanswered(failure) && budget.resends > 0) {
        budget.resends -= 1;
        sends += 1;
        await sleep(rules.resendUnanswered.waitMs * sends);
        continue;
      }
      if (
        rules.waitOutRateLimits &&
        failure.kind === "sync" &&
        failure.error.type === "rate_limited" &&
        budget.rateLimitWaits > 0
      ) {
        budget.rateLimitWaits -= 1;
        await sleep(failure.error.retryAfterMs);
        continue;
      }
      return { ok: false, failure, verdict: verdictOf(failure), error };
    }
  }
}
