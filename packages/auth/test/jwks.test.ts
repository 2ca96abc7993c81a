import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONWebKeySet } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AuthErrorCode,
  createVerifier,
  exportPublicJwks,
  generateSigningKey,
  mintAccessToken,
} from "../src/index.js";

const subject = {
  kind: "device",
  userId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  deviceId: "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
  role: "user",
} as const;

const servers: Server[] = [];

/** Serves `jwks` at /.well-known/jwks.json on 127.0.0.1, on a port the OS picks. */
async function serveJwks(jwks: JSONWebKeySet): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    if (request.url !== "/.well-known/jwks.json") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, requests: () => requests };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

async function expectRefused(promise: Promise<unknown>, code: AuthErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: "AuthError", code });
}

describe("verification through a JWKS URL", () => {
  it("verifies tokens from any key the JWKS publishes, fetching it once", async () => {
    const current = await generateSigningKey();
    const previous = await generateSigningKey();
    const jwks = await exportPublicJwks([current, previous]);
    const { url, requests } = await serveJwks(jwks);
    const verifier = await createVerifier({ jwksUrl: url });
    const fromCurrent = await mintAccessToken(current, subject);
    const fromPrevious = await mintAccessToken(previous, subject);
    expect((await verifier.verify(fromCurrent.token)).deviceId).toBe(subject.deviceId);
    expect((await verifier.verify(fromPrevious.token)).userId).toBe(subject.userId);
    expect(requests()).toBe(1);
  });

  it("refuses a token whose key the JWKS does not publish", async () => {
    const published = await generateSigningKey();
    const stranger = await generateSigningKey();
    const { url } = await serveJwks(await exportPublicJwks([published]));
    const verifier = await createVerifier({ jwksUrl: url });
    const { token } = await mintAccessToken(stranger, subject);
    await expectRefused(verifier.verify(token), "invalid_signature");
  });

  it("says the key set is unavailable, not that the token is bad, when the URL fails", async () => {
    const key = await generateSigningKey();
    const { url } = await serveJwks(await exportPublicJwks([key]));
    const verifier = await createVerifier({ jwksUrl: url.replace("jwks.json", "missing.json") });
    const { token } = await mintAccessToken(key, subject);
    await expectRefused(verifier.verify(token), "jwks_unavailable");
  });

  it("also verifies against a JWKS document held in memory", async () => {
    const key = await generateSigningKey();
    const verifier = await createVerifier({ jwks: await exportPublicJwks([key]) });
    const { token } = await mintAccessToken(key, subject);
    expect((await verifier.verify(token)).role).toBe("user");
  });
});
