export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

/**
 * Exponential backoff with full jitter: a uniformly random delay in [0, min(max, base·2^n)).
 * Devices that failed together (a server restart) spread their retries instead of returning
 * as one wave.
 */
export function fullJitterDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
