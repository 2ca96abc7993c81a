/**
 * Every failure of @chorus/crypto is a CryptoError with a `code` a caller can switch on; none of
 * them is a crash, and none carries key material or plaintext in its message.
 */
export type CryptoErrorCode =
  /** the password does not open the wrapped key (or the stored wrapped key was altered) */
  | "wrong_password"
  /** a sealed value fails authentication: a byte changed, or it was moved to another op, field, entity, user or key epoch */
  | "tampered"
  /** the value is sealed under another key epoch than the key at hand: fetch the account's current key */
  | "key_epoch_mismatch"
  /** an envelope this build cannot read (a newer version, or malformed) */
  | "unsupported_envelope"
  /** openValue was given a plaintext value */
  | "not_sealed"
  /** the sealed value would exceed the protocol's per-value byte limit */
  | "value_too_large"
  /** a wrapped key or KDF parameters that do not parse, or a password that cannot be used */
  | "invalid_input";

export class CryptoError extends Error {
  override name = "CryptoError";

  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
