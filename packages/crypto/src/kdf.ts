import { type KdfParams, KdfParams as KdfParamsSchema } from "@chorus/protocol";
import { hashRaw } from "@node-rs/argon2";
import { random, toBase64url } from "./bytes.js";
import { CryptoError } from "./errors.js";

const ARGON2ID = 2;
const ARGON2_VERSION_0X13 = 1;

/** Argon2id parameters new wrapped keys get: 64 MiB, 3 passes (about 0.3 s on a laptop). */
export const DEFAULT_KDF_COST = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 } as const;
export type KdfCost = Pick<KdfParams, "memoryKiB" | "iterations" | "parallelism">;

/** Fresh parameters: the given cost with a new random 16-byte salt. */
export function newKdfParams(cost: KdfCost = DEFAULT_KDF_COST): KdfParams {
  return parseKdfParams({ algorithm: "argon2id", ...cost, salt: toBase64url(random(16)) });
}

export function parseKdfParams(value: unknown): KdfParams {
  const parsed = KdfParamsSchema.safeParse(value);
  if (!parsed.success) {
    throw new CryptoError(
      "invalid_input",
      `KDF parameters refused: ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data;
}

/**
 * The 32-byte key-encryption key for `password`. The password is NFC-normalised, so the same
 * password typed on systems that compose characters differently derives the same key.
 */
export async function deriveKek(password: string, params: KdfParams): Promise<Uint8Array> {
  if (typeof password !== "string" || password.length === 0) {
    throw new CryptoError("invalid_input", "the encryption password must not be empty");
  }
  const output = await hashRaw(password.normalize("NFC"), {
    // The package's enums are `const enum`s, absent at run time: Argon2id is 2, version 0x13 is 1.
    algorithm: ARGON2ID,
    version: ARGON2_VERSION_0X13,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    outputLen: 32,
    salt: Buffer.from(params.salt, "base64url"),
  });
  return new Uint8Array(output);
}
