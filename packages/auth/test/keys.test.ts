import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  exportPublicJwks,
  exportSigningKeyPem,
  generateSigningKey,
  importSigningKey,
  importVerificationKey,
  loadOrCreateDevSigningKey,
} from "../src/index.js";

describe("key import and export", () => {
  it("imports the same key from PKCS8 PEM and from a private JWK, deriving the public half", async () => {
    const key = await generateSigningKey();
    const { privateKeyPem, publicKeyPem } = await exportSigningKeyPem(key);
    const fromPem = await importSigningKey(`\n${privateKeyPem}\n`);
    const fromJwk = await importSigningKey(JSON.stringify(await exportJWK(key.privateKey)));
    expect(fromPem.kid).toBe(key.kid);
    expect(fromJwk.kid).toBe(key.kid);
    expect((await importVerificationKey(publicKeyPem)).kid).toBe(key.kid);
    expect(await exportJWK(fromPem.publicKey)).toEqual(await exportJWK(key.publicKey));
  });

  it("keeps the kid a JWK names", async () => {
    const key = await generateSigningKey();
    const jwk = { ...(await exportJWK(key.privateKey)), kid: "2025-06" };
    expect((await importSigningKey(JSON.stringify(jwk))).kid).toBe("2025-06");
  });

  it("refuses text that is neither PEM nor JSON, and keys of another type", async () => {
    await expect(importSigningKey("hunter2")).rejects.toThrow(/neither a PEM block nor JSON/);
    await expect(
      importVerificationKey(JSON.stringify({ kty: "oct", k: "c2VjcmV0" })),
    ).rejects.toThrow(/expected an Ed25519 key/);
    const publicOnly = JSON.stringify(await exportJWK((await generateSigningKey()).publicKey));
    await expect(importSigningKey(publicOnly)).rejects.toThrow(/no private part/);
  });

  it("publishes only public parts in the JWKS, each with kid, alg and use", async () => {
    const [first, second] = [await generateSigningKey(), await generateSigningKey()];
    const jwks = await exportPublicJwks([first, second]);
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[0]).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: expect.any(String),
      kid: first.kid,
      alg: "EdDSA",
      use: "sig",
    });
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });
});

describe("dev key file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "chorus-auth-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the key with mode 0600 on first use and loads the same key afterwards", async () => {
    const file = join(dir, "nested", "dev-signing-key.json");
    const created = await loadOrCreateDevSigningKey(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8")).kid).toBe(created.kid);
    expect((await loadOrCreateDevSigningKey(file)).kid).toBe(created.kid);
  });

  it("gives every concurrent caller the same key", async () => {
    const file = join(dir, "dev-signing-key.json");
    const keys = await Promise.all([1, 2, 3].map(() => loadOrCreateDevSigningKey(file)));
    expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
  });

  it.skipIf(process.platform === "win32")("refuses a key file others can read", async () => {
    const file = join(dir, "dev-signing-key.json");
    await loadOrCreateDevSigningKey(file);
    await chmod(file, 0o644);
    await expect(loadOrCreateDevSigningKey(file)).rejects.toThrow(/run chmod 600/);
  });
});
