import { randomUUID } from "node:crypto";
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
  type RemoteJWKSetOptions,
  SignJWT,
} from "jose";
import { z } from "zod";
import { AuthError } from "./errors.js";
import { importVerificationKey, type SigningKey, TOKEN_ALG } from "./keys.js";

/** The web app issues access tokens ... */
export const TOKEN_ISSUER = "chorus-web";
/** ... for the sync server. */
export const TOKEN_AUDIENCE = "chorus-sync";
/** JWT `typ` of access tokens (RFC 9068), so no other JWT signed by the key passes as one. */
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 10 * 60;
export const CLOCK_TOLERANCE_SECONDS = 5;

export const Role = z.enum(["user", "admin"]);
export type Role = z.infer<typeof Role>;
export const TokenKind = z.enum(["device", "web"]);
export type TokenKind = z.infer<typeof TokenKind>;

const userId = z.uuid("userId must be a UUID");

/**
 * Who a token speaks for. A device token always names its device and never carries the admin
 * role (it is a desktop's credential: sync and its own account's devices, nothing more); a web
 * token never names a device and carries the account's role.
 */
export const TokenSubject = z.discriminatedUnion("kind", [
  z.object({
    userId,
    role: z.literal("user", "a device token never carries the admin role"),
    kind: z.literal("device"),
    deviceId: z.uuid("did must be a UUID"),
  }),
  z.object({
    userId,
    role: Role,
    kind: z.literal("web"),
    deviceId: z.undefined("a web token carries no device id").optional(),
  }),
]);
export type TokenSubject = z.infer<typeof TokenSubject>;

/** A verified token's subject and when it stops being valid. */
export type Principal = TokenSubject & { readonly expiresAt: Date };

/** The claims as they sit in the JWT; `did` only for device tokens. */
const AccessTokenClaims = z.object({
  sub: z.string(),
  role: z.unknown(),
  kind: z.unknown(),
  did: z.unknown().optional(),
  iat: z.number(),
  exp: z.number(),
});

export interface MintOptions {
  /** Defaults to DEFAULT_ACCESS_TOKEN_TTL_SECONDS; more than MAX_ACCESS_TOKEN_TTL_SECONDS is refused. */
  ttlSeconds?: number;
  now?: () => Date;
}

export interface MintedToken {
  token: string;
  expiresAt: Date;
}

export async function mintAccessToken(
  key: SigningKey,
  subject: TokenSubject,
  options: MintOptions = {},
): Promise<MintedToken> {
  const ttl = options.ttlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_ACCESS_TOKEN_TTL_SECONDS) {
    throw new RangeError(
      `access token lifetime must be 1..${MAX_ACCESS_TOKEN_TTL_SECONDS} s (got ${ttl}); use the refresh token for longer sessions`,
    );
  }
  const parsed = TokenSubject.safeParse(subject);
  if (!parsed.success) throw new TypeError(`cannot mint: ${z.prettifyError(parsed.error)}`);
  const issuedAt = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const expiresAt = issuedAt + ttl;
  const claims =
    parsed.data.kind === "device"
      ? { role: parsed.data.role, kind: parsed.data.kind, did: parsed.data.deviceId }
      : { role: parsed.data.role, kind: parsed.data.kind };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: TOKEN_ALG, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(parsed.data.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(key.privateKey);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/** Where the verifier finds public keys: one key, a JWKS document, or a JWKS URL. */
export type VerifierKeySource =
  | { publicKey: CryptoKey | string }
  | { jwks: JSONWebKeySet }
  | { jwksUrl: string | URL; jwksOptions?: RemoteJWKSetOptions };

export type VerifierOptions = VerifierKeySource & {
  now?: () => Date;
  clockToleranceSeconds?: number;
  /**
   * Tokens whose verification is remembered (default 10,000; 0 turns the cache off). A device
   * presents the same token on every call until it refreshes it, and checking an EdDSA
   * signature was a tenth of a push's CPU on the sync server.
   */
  cacheSize?: number;
};

export interface AccessTokenVerifier {
  /** The token's principal, or an AuthError saying why it was refused. */
  verify(token: string): Promise<Principal>;
}

function remoteKeySet(url: URL, options: RemoteJWKSetOptions | undefined): JWTVerifyGetKey {
  const keySet = createRemoteJWKSet(url, options);
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSEAlgNotAllowed
      ) {
        throw error;
      }
      throw new AuthError("jwks_unavailable", `could not fetch the key set from ${url}`, {
        cause: error,
      });
    }
  };
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) {
    return new AuthError("expired", "the access token has expired; get a new one", {
      cause: error,
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") {
      return new AuthError("wrong_audience", `the token is not for ${TOKEN_AUDIENCE}`, {
        cause: error,
      });
    }
    if (error.claim === "iss") {
      return new AuthError("wrong_issuer", `the token was not issued by ${TOKEN_ISSUER}`, {
        cause: error,
      });
    }
    return new AuthError("malformed", `claim ${error.claim}: ${error.message}`, { cause: error });
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed
  ) {
    return new AuthError("invalid_signature", "the token is not signed by a trusted key", {
      cause: error,
    });
  }
  return new AuthError("malformed", "the token is not a valid access token", { cause: error });
}

async function keyFor(source: VerifierKeySource): Promise<CryptoKey | JWTVerifyGetKey> {
  if ("publicKey" in source) {
    return typeof source.publicKey === "string"
      ? (await importVerificationKey(source.publicKey)).publicKey
      : source.publicKey;
  }
  if ("jwks" in source) return createLocalJWKSet(source.jwks);
  return remoteKeySet(new URL(source.jwksUrl), source.jwksOptions);
}

function principalOf(payload: unknown, nowSeconds: number, tolerance: number): Principal {
  const claims = AccessTokenClaims.safeParse(payload);
  if (!claims.success) throw new AuthError("malformed", "the token lacks sub, iat or exp");
  const { sub, role, kind, did, iat, exp } = claims.data;
  if (exp - iat > MAX_ACCESS_TOKEN_TTL_SECONDS) {
    throw new AuthError(
      "malformed",
      `the token lives longer than ${MAX_ACCESS_TOKEN_TTL_SECONDS} s`,
    );
  }
  if (iat > nowSeconds + tolerance)
    throw new AuthError("malformed", "the token is issued in the future");
  const subject = TokenSubject.safeParse({ userId: sub, role, kind, deviceId: did });
  if (!subject.success) {
    throw new AuthError("malformed", `bad claims: ${z.prettifyError(subject.error)}`);
  }
  // Field by field, not `{ ...subject.data, expiresAt }`: once that spread is hot, V8 gives each
  // copy a hidden class of its own (~200 bytes more per principal, and a socket keeps its
  // principal for its whole life). Same keys, same order, same values.
  const { data } = subject;
  return {
    userId: data.userId,
    role: data.role,
    kind: data.kind,
    deviceId: data.deviceId,
    expiresAt: new Date(exp * 1000),
  } as Principal;
}

const DEFAULT_VERIFIED_TOKEN_CACHE = 10_000;

/**
 * A verifier of access tokens (EdDSA only, issuer chorus-web, audience chorus-sync, typ
 * at+jwt, lifetime <= 15 min, 5 s clock tolerance). A string public key (SPKI PEM or JWK) is
 * imported here, so a bad key fails at startup rather than at the first request.
 */
export async function createVerifier(options: VerifierOptions): Promise<AccessTokenVerifier> {
  const key = await keyFor(options);
  const now = options.now ?? (() => new Date());
  const tolerance = options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
  const verifyOptions = (currentDate: Date) => ({
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    algorithms: [TOKEN_ALG],
    typ: ACCESS_TOKEN_TYPE,
    clockTolerance: tolerance,
    currentDate,
    requiredClaims: ["sub", "iat", "exp"],
  });
  // Verified tokens, oldest first (a Map keeps insertion order). A hit is the very same token
  // string, whose signature and claims were checked; only its expiry is checked again. A key
  // withdrawn from the JWKS therefore stops a cached token at its expiry (<= 15 min) rather
  // than at once; revoking a device does not depend on this (the device check does it).
  const cacheSize = options.cacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE;
  const verified = new Map<string, Principal>();
  return {
    async verify(token) {
      const currentDate = now();
      const hit = verified.get(token);
      if (hit) {
        if (currentDate.getTime() < hit.expiresAt.getTime() + tolerance * 1000) return hit;
        verified.delete(token);
      }
      try {
        const { payload } =
          typeof key === "function"
            ? await jwtVerify(token, key, verifyOptions(currentDate))
            : await jwtVerify(token, key, verifyOptions(currentDate));
        const principal = principalOf(payload, Math.floor(currentDate.getTime() / 1000), tolerance);
        if (cacheSize > 0) {
          if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
          verified.set(token, principal);
        }
        return principal;
      } catch (error) {
        throw toAuthError(error);
      }
    },
  };
}
