import { hash, verify } from "@node-rs/argon2";

/*
 * Password hashes are argon2id (PHC string, salt included) with OWASP's baseline parameters:
 * 19 MiB of memory, 2 passes, 1 lane. verify() reads the parameters from the stored string,
 * so raising them later only affects new hashes.
 */
const ARGON2ID = 2; // Algorithm.Argon2id: a const enum, which isolatedModules cannot import.
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash never matches.
    return false;
  }
}

/** A real hash to verify against when the email is unknown, so both cases take as long. */
let decoy: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoy ??= hashPassword("chorus-decoy-password-never-matches");
  return decoy;
}
