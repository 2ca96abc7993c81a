import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generateKeyPair, type JWTHeaderParameters, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_TYPE,
  type AuthErrorCode,
  createVerifier,
  exportSigningKeyPem,
  generateSigningKey,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  mintAccessToken,
  type SigningKey,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "../src/index.js";

const USER = "0f8fad5b-d9cb-469f-a165-70867728950e";
const DEVICE = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
const T0 = new Date("2025-06-01T12:00:00Z");
const at = (offsetSeconds: number) => () => new Date(T0.getTime() + offsetSeconds * 1000);

const deviceSubject = { kind: "device", userId: USER, deviceId: DEVICE, role: "user" } as const;

async function expectRefused(promise: Promise<unknown>, code: AuthErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: "AuthError", code });
}

/** Signs arbitrary claims with `key`, to build tokens our minter would never produce. */
function handMade(
  key: SigningKey,
  claims: Record<string, unknown> = {},
  header: JWTHeaderParameters = { alg: "EdDSA", kid: key.kid, typ: ACCESS_TOKEN_TYPE },
) {
  const iat = Math.floor(T0.getTime() / 1000);
  return new SignJWT({ role: "user", kind: "device", did: DEVICE, ...claims })
    .setProtectedHeader(header)
    .setSubject(USER)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 600);
}

describe("access tokens", () => {
  it("round-trips a device token to its principal", async () => {
    const key = await generateSigningKey();
    const { token, expiresAt } = await mintAccessToken(key, deviceSubject, { now: at(0) });
    expect(expiresAt).toEqual(new Date(T0.getTime() + 600_000));
    const verifier = await createVerifier({ publicKey: key.publicKey, now: at(60) });
    expect(await verifier.verify(token)).toEqual({ ...deviceSubject, expiresAt });
  });

  it("round-trips a web token, which names no device", async () => {
    const key = await generateSigningKey();
    const web = { kind: "web", userId: USER, role: "admin" } as const;
    const { token } = await mintAccessToken(key, web, { now: at(0), ttlSeconds: 60 });
    const principal = await (await createVerifier({ publicKey: key.publicKey, now: at(1) })).verify(
      token,
    );
    expect(principal).toMatchObject(web);
    expect(principal.deviceId).toBeUndefined();
  });

  it("device token carrying the admin role is neither minted nor accepted", async () => {
    const key = await generateSigningKey();
    const adminDevice = { ...deviceSubject, role: "admin" } as unknown as typeof deviceSubject;
    await expect(mintAccessToken(key, adminDevice)).rejects.toThrow(/admin role/);
    const verifier = await createVerifier({ publicKey: key.publicKey, now: at(1) });
    await expectRefused(
      verifier.verify(await handMade(key, { role: "admin" }).sign(key.privateKey)),
      "malformed",
    );
  });

  it("verifies with the public key given as SPKI PEM or as a JWK string", async () => {
    const key = await generateSigningKey();
    const { token } = await mintAccessToken(key, deviceSubject, { now: at(0) });
    const { publicKeyPem } = await exportSigningKeyPem(key);
    const fromPem = await createVerifier({ publicKey: publicKeyPem, now: at(1) });
    expect((await fromPem.verify(token)).userId).toBe(USER);
  });

  it("refuses an expired token, with 5 s of clock tolerance", async () => {
    const key = await generateSigningKey();
    const { token } = await mintAccessToken(key, deviceSubject, { now: at(0), ttlSeconds: 60 });
    const justInside = await createVerifier({ publicKey: key.publicKey, now: at(64) });
    expect((await justInside.verify(token)).deviceId).toBe(DEVICE);
    const after = await createVerifier({ publicKey: key.publicKey, now: at(66) });
    await expectRefused(after.verify(token), "expired");
  });

  it("remembers a verified token, yet refuses it once it expires", async () => {
    const key = await generateSigningKey();
    const { token } = await mintAccessToken(key, deviceSubject, { now: at(0), ttlSeconds: 60 });
    let clock = 10;
    const verifier = await createVerifier({ publicKey: key.publicKey, now: () => at(clock)() });
    const first = await verifier.verify(token);
    clock = 64;
    expect(await verifier.verify(token)).toEqual(first);
    clock = 66;
    await expectRefused(verifier.verify(token), "expired");
    // A token that only differs from a remembered one is checked in full.
    clock = 10;
    expect((await verifier.verify(token)).deviceId).toBe(DEVICE);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BA" : "AA"}`;
    await expectRefused(verifier.verify(`${header}.${payload}.${flipped}`), "invalid_signature");
  });

  it("keeps at most cacheSize tokens and works with the cache turned off", async () => {
    const key = await generateSigningKey();
    const tokens = await Promise.all(
      [0, 1, 2].map((i) => mintAccessToken(key, deviceSubject, { now: at(i), ttlSeconds: 60 })),
    );
    for (const cacheSize of [0, 2]) {
      const verifier = await createVerifier({ publicKey: key.publicKey, now: at(5), cacheSize });
      for (const { token } of [...tokens, ...tokens]) {
        expect((await verifier.verify(token)).deviceId).toBe(DEVICE);
      }
    }
  });

  it("refuses a token signed by another key", async () => {
    const trusted = await generateSigningKey();
    const forger = await generateSigningKey();
    const { token } = await mintAccessToken(forger, deviceSubject, { now: at(0) });
    const verifier = await createVerifier({ publicKey: trusted.publicKey, now: at(1) });
    await expectRefused(verifier.verify(token), "invalid_signature");
  });

  it("refuses a token for another audience or from another issuer", async () => {
    const key = await generateSigningKey();
    const verifier = await createVerifier({ publicKey: key.publicKey, now: at(1) });
    const otherAudience = await handMade(key).setAudience("chorus-admin").sign(key.privateKey);
    await expectRefused(verifier.verify(otherAudience), "wrong_audience");
    const otherIssuer = await handMade(key).setIssuer("someone-else").sign(key.privateKey);
    await expectRefused(verifier.verify(otherIssuer), "wrong_issuer");
  });

  it("refuses tokens signed with another algorithm, even by a key it would accept", async () => {
    const key = await generateSigningKey();
    const verifier = await createVerifier({ publicKey: key.publicKey, now: at(1) });
    const es256 = await generateKeyPair("ES256");
    const token = await handMade(key, {}, { alg: "ES256", typ: ACCESS_TOKEN_TYPE }).sign(
      es256.privateKey,
    );
    await expectRefused(verifier.verify(token), "invalid_signature");
  });

  it("refuses garbage, a token without typ at+jwt, and a device token without did", async () => {
    const key = await generateSigningKey();
    const verifier = await createVerifier({ publicKey: key.publicKey, now: at(1) });
    await expectRefused(verifier.verify("not.a.jwt"), "malformed");
    const plainJwt = await handMade(key, {}, { alg: "EdDSA", kid: key.kid }).sign(key.privateKey);
    await expectRefused(verifier.verify(plainJwt), "malformed");
    const noDevice = await handMade(key, { did: undefined }).sign(key.privateKey);
    await expectRefused(verifier.verify(noDevice), "malformed");
    const badRole = await handMade(key, { role: "root" }).sign(key.privateKey);
    await expectRefused(verifier.verify(badRole), "malformed");
  });

  it("refuses a token that lives longer than 15 minutes, even if correctly signed", async () => {
    const key = await generateSigningKey();
    const iat = Math.floor(T0.getTime() / 1000);
    const longLived = await handMade(key)
      .setExpirationTime(iat + MAX_ACCESS_TOKEN_TTL_SECONDS + 1)
      .sign(key.privateKey);
    const verifier = await createVerifier({ publicKey: key.publicKey, now: at(1) });
    await expectRefused(verifier.verify(longLived), "malformed");
  });

  it("refuses to mint a lifetime over 15 minutes", async () => {
    const key = await generateSigningKey();
    await expect(
      mintAccessToken(key, deviceSubject, { ttlSeconds: MAX_ACCESS_TOKEN_TTL_SECONDS + 1 }),
    ).rejects.toThrow(/access token lifetime must be 1\.\.900 s \(got 901\)/);
    const { expiresAt } = await mintAccessToken(key, deviceSubject, {
      now: at(0),
      ttlSeconds: MAX_ACCESS_TOKEN_TTL_SECONDS,
    });
    expect(expiresAt.getTime() - T0.getTime()).toBe(MAX_ACCESS_TOKEN_TTL_SECONDS * 1000);
  });

  it("refuses to mint a device token without a valid device id", async () => {
    const key = await generateSigningKey();
    await expect(mintAccessToken(key, { ...deviceSubject, deviceId: "laptop" })).rejects.toThrow(
      /did must be a UUID/,
    );
  });
});

describe("verified principals", () => {
  it("share one hidden class (a sync server keeps one per socket; a spread gave each its own, ~200 bytes)", () => {
    const result = spawnSync(
      process.execPath,
      [
        "--allow-natives-syntax",
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/principal-shapes.ts", import.meta.url)),
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ shared: true });
  }, 150_000);
});
