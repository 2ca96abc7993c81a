import { randomUUID } from "node:crypto";
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importJWK,
  importPKCS8,
  importSPKI,
  type JSONWebKeySet,
  type JWK,
} from "jose";

/** The one signing algorithm: EdDSA over Ed25519 (RFC 8037). */
export const TOKEN_ALG = "EdDSA";
const CURVE = "Ed25519";

/** A key that signs access tokens, with its public half and its key id. */
export interface SigningKey {
  /** JWK thumbprint (RFC 7638) of the public key unless a JWK named another. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/** A key that verifies access tokens. */
export interface VerificationKey {
  readonly kid: string;
  readonly publicKey: CryptoKey;
}

function publicJwkOf(jwk: JWK): JWK {
  if (jwk.kty !== "OKP" || jwk.crv !== CURVE || typeof jwk.x !== "string") {
    throw new Error(`expected an ${CURVE} key (kty OKP, crv ${CURVE}), got kty ${jwk.kty}`);
  }
  return { kty: "OKP", crv: CURVE, x: jwk.x };
}

/** importJWK returns bytes for symmetric ("oct") keys, which publicJwkOf already refuses. */
function asymmetric(key: CryptoKey | Uint8Array): CryptoKey {
  if (key instanceof Uint8Array) throw new Error("expected an Ed25519 key, got a symmetric key");
  return key;
}

async function kidOf(jwk: JWK): Promise<string> {
  return jwk.kid ?? (await calculateJwkThumbprint(publicJwkOf(jwk)));
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, {
    crv: CURVE,
    extractable: true,
  });
  return { kid: await kidOf(await exportJWK(publicKey)), privateKey, publicKey };
}

function parseJwkText(text: string, what: string): JWK {
  try {
    return JSON.parse(text) as JWK;
  } catch {
    throw new Error(`${what} is neither a PEM block nor JSON (a JWK)`);
  }
}

async function signingKeyFromJwk(jwk: JWK): Promise<SigningKey> {
  if (typeof jwk.d !== "string") throw new Error("the private JWK has no private part (d)");
  const publicJwk = publicJwkOf(jwk);
  const privateKey = await importJWK({ ...publicJwk, d: jwk.d }, TOKEN_ALG, { extractable: true });
  const publicKey = await importJWK(publicJwk, TOKEN_ALG, { extractable: true });
  return {
    kid: await kidOf(jwk),
    privateKey: asymmetric(privateKey),
    publicKey: asymmetric(publicKey),
  };
}

/**
 * Imports the signing key from its env-style text: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`)
 * or a private JWK as JSON (`{"kty":"OKP","crv":"Ed25519","x":...,"d":...}`).
 * The public half is derived from it.
 */
export async function importSigningKey(text: string): Promise<SigningKey> {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN")) {
    const privateKey = await importPKCS8(trimmed, TOKEN_ALG, { extractable: true });
    return signingKeyFromJwk(await exportJWK(privateKey));
  }
  return signingKeyFromJwk(parseJwkText(trimmed, "the signing key"));
}

/** Imports a verification key from an SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or a public JWK. */
export async function importVerificationKey(text: string): Promise<VerificationKey> {
  const trimmed = text.trim();
  const jwk = trimmed.startsWith("-----BEGIN")
    ? await exportJWK(await importSPKI(trimmed, TOKEN_ALG, { extractable: true }))
    : parseJwkText(trimmed, "the verification key");
  const publicKey = await importJWK(publicJwkOf(jwk), TOKEN_ALG, { extractable: true });
  return { kid: await kidOf(jwk), publicKey: asymmetric(publicKey) };
}

/** The public keys as the JWKS document the web app serves (and `createRemoteJWKSet` reads). */
export async function exportPublicJwks(
  keys: ReadonlyArray<SigningKey | VerificationKey>,
): Promise<JSONWebKeySet> {
  return {
    keys: await Promise.all(
      keys.map(async (key) => ({
        ...publicJwkOf(await exportJWK(key.publicKey)),
        kid: key.kid,
        alg: TOKEN_ALG,
        use: "sig",
      })),
    ),
  };
}

/** PEM forms of a signing key, for env variables or secret stores. */
export async function exportSigningKeyPem(
  key: SigningKey,
): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  return {
    privateKeyPem: await exportPKCS8(key.privateKey),
    publicKeyPem: await exportSPKI(key.publicKey),
  };
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

function isAlreadyThere(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "EEXIST";
}

/**
 * DEV ONLY: where local runs keep their shared signing key: `.data/dev-signing-key.json` at the
 * repository root (git-ignored), so the web app, the sync server and `mint-dev-token` agree.
 */
export function defaultDevKeyFile(): string {
  // Not `new URL("…", import.meta.url)`: bundlers (the web app's webpack) read that pattern as
  // an asset import and fail the build when the file does not exist yet.
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../../.data/dev-signing-key.json");
}

/**
 * DEV ONLY: the signing key kept in `filePath` (a private JWK, mode 0600), created on first
 * use. Like ssh, it refuses a key file that others can read. Production keys come from the
 * environment through `importSigningKey`.
 */
export async function loadOrCreateDevSigningKey(filePath: string): Promise<SigningKey> {
  try {
    const info = await stat(filePath);
    if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
      throw new Error(
        `dev key file ${filePath} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    return await importSigningKey(await readFile(filePath, "utf8"));
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const key = await generateSigningKey();
  const jwk = { ...(await exportJWK(key.privateKey)), kid: key.kid };
  await mkdir(dirname(filePath), { recursive: true, mode: 0o700 });
  // Written aside, then hard-linked into place: the file appears whole or not at all, and
  // link() fails if another process created it first, in which case its key wins.
  const draft = `${filePath}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(draft, `${JSON.stringify(jwk, null, 2)}\n`, { flag: "wx", mode: 0o600 });
  try {
    // The mode given to writeFile is reduced by the umask; make sure it is exactly 0600.
    await chmod(draft, 0o600);
    await link(draft, filePath);
  } catch (error) {
    if (isAlreadyThere(error)) return importSigningKey(await readFile(filePath, "utf8"));
    throw error;
  } finally {
    await unlink(draft);
  }
  return key;
}
