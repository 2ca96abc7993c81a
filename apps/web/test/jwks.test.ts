import {
  createVerifier,
  exportSigningKeyPem,
  generateSigningKey,
  mintAccessToken,
} from "@chorus/auth";
import { afterEach, describe, expect, it, vi } from "vitest";

/*
 * The JWKS during a key rotation (docs/deploy.md#rotating-the-signing-key): the current key and
 * the previous one, so tokens signed before the switch verify until they expire.
 */

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

async function jwksWith(settings: Record<string, string>) {
  process.env = {
    ...saved,
    DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/chorus",
    CHORUS_ENV: "local",
    ...settings,
  };
  vi.resetModules();
  const { GET } = await import("@/app/api/jwks/route");
  return (await (await GET()).json()) as { keys: { kid: string }[] };
}

describe("GET /.well-known/jwks.json", () => {
  it("serves the current key and AUTH_PREVIOUS_PUBLIC_KEY, and both keys' tokens verify by kid", async () => {
    const previous = await generateSigningKey();
    const current = await generateSigningKey();
    const jwks = await jwksWith({
      AUTH_PRIVATE_KEY: (await exportSigningKeyPem(current)).privateKeyPem,
      AUTH_PREVIOUS_PUBLIC_KEY: (await exportSigningKeyPem(previous)).publicKeyPem,
    });
    expect(jwks.keys.map((key) => key.kid)).toEqual([current.kid, previous.kid]);

    const verifier = await createVerifier({ jwks: jwks as never, cacheSize: 0 });
    const subject = { kind: "web", userId: crypto.randomUUID(), role: "user" } as const;
    for (const key of [previous, current]) {
      const { token } = await mintAccessToken(key, subject);
      await expect(verifier.verify(token)).resolves.toMatchObject({ userId: subject.userId });
    }
  });

  it("serves only the current key when no rotation is under way", async () => {
    const current = await generateSigningKey();
    const jwks = await jwksWith({
      AUTH_PRIVATE_KEY: (await exportSigningKeyPem(current)).privateKeyPem,
    });
    expect(jwks.keys.map((key) => key.kid)).toEqual([current.kid]);
  });
});
