import type { EngineErrorCode } from "./contract.js";

/**
 * An error the user (or the calling code) can act on: a stable `code` to branch on and the
 * `details` needed to recover (e.g. the profiles that do exist when one is not found).
 */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EngineError";
  }
}

export function isEngineError(error: unknown): error is EngineError {
  return error instanceof EngineError;
}
