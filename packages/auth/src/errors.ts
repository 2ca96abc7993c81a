/**
 * Why a token was refused. `jwks_unavailable` is the verifier's fault, not the token's: the
 * remote key set could not be fetched, so answer 503 (retry later) rather than 401.
 */
export type AuthErrorCode =
  | "expired"
  | "invalid_signature"
  | "wrong_audience"
  | "wrong_issuer"
  | "malformed"
  | "jwks_unavailable";

export class AuthError extends Error {
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuthError";
    this.code = code;
  }
}

export function isAuthError(error: unknown): error is AuthError {
  return error instanceof AuthError;
}
