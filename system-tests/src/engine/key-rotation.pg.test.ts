import { memoryTokenStore } from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";
import { FakeWeb } from "../support/fake-web.js";

/*
 * Rotating the token signing key signs nobody out (docs/deploy.md#rotating-the-signing-key):
 * the sync server verifies by kid against a JWKS that serves the current and the previous key,
 * so a device's open socket keeps syncing, and its next refresh brings a token signed with the
 * new key, which the server accepts too.
 */

let backend: TestBackend;
let fleet: EngineFleet | undefined;
let web: FakeWeb | undefined;
beforeAll(async () => {
  backend = await TestBackend.start({ jwks: true });
});
afterAll(async () => {
  await web?.close();
  await fleet?.close();
  await backend?.close();
});

async function pullStatus(token: string): Promise<number> {
  const input = encodeURIComponent(JSON.stringify({ since: 0 }));
  const response = await fetch(`${backend.syncUrl}/trpc/sync.pull?input=${input}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

const kidOf = (token: string): string =>
  JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).kid;

it("a device holding a socket keeps syncing across a key rotation, and its next refresh gets a token of the new key", async () => {
  fleet = new EngineFleet();
  // 61 s tokens: the engine refreshes 60 s before expiry, so any HTTP call a second after a
  // refresh refreshes again.
  const started = await FakeWeb.forNewAccount(backend, 61);
  const { account } = started;
  web = started.web;
  const laptop = fleet.open("laptop", { tokenStore: memoryTokenStore() });
  await laptop.signInWithBrowser({
    webUrl: web.url,
    platform: "linux",
    appVersion: "0.1.0",
    openUrl: async (url) => void (await web?.approve(url)),
  });
  await laptop.start();
  const desk = fleet.open("desk");
  const deskDevice = await account.device("desk");
  await desk.bind(deskDevice.session);
  await desk.start();

  const before = await laptop.createPlaylist("before the rotation");
  await waitUntil("the desk has the laptop's edit", () => desk.playlist(before.id) !== null);
  const oldKid = backend.key.kid;
  const oldToken = await backend.mint(account.userId, deskDevice.deviceId);
  const issuedBefore = web.issued.length;

  const newKey = await backend.rotateKey();
  expect(newKey.kid).not.toBe(oldKid);

  // Tokens of both keys are accepted on new connections: the JWKS serves the previous key too,
  // and a kid the server has not seen makes it fetch the set again (at most once per
  // cooldown, so it may take a few seconds).
  expect(await pullStatus(oldToken)).toBe(200);
  const newToken = await backend.mint(account.userId, deskDevice.deviceId);
  await waitUntil(
    "the server accepts a token of the new key (within its JWKS refetch cooldown)",
    async () => (await pullStatus(newToken)) === 200,
  );

  // The laptop's socket, opened with a token of the old key, still delivers.
  const fromDesk = await desk.createPlaylist("after the rotation, from the desk");
  await waitUntil(
    "the laptop receives the desk's edit on its open socket",
    () => laptop.playlist(fromDesk.id) !== null,
  );

  // It keeps pushing on that socket (the socket's token is renewed when it reconnects: at the
  // latest when the server closes it at the token's expiry).
  const fromLaptop = await laptop.createPlaylist("after the rotation, from the laptop");
  await waitUntil(
    "the desk receives the laptop's edit",
    () => desk.playlist(fromLaptop.id) !== null,
  );
  // Its next call over HTTP (here: asking the server why it is behind) refreshes the token,
  // and the refresh brings a token of the new key, which the server accepts. (A refresh
  // already in flight at the rotation may still bring one of the old key, which stays valid.)
  await waitUntil("the laptop's refresh brings a token of the new key", async () => {
    await laptop.explain();
    return (web?.issued.slice(issuedBefore) ?? []).some((token) => kidOf(token) === newKey.kid);
  });
  expect(web.grants.at(-1)).toBe("refresh_token");
  expect(kidOf(web.issued.at(-1) ?? "")).toBe(newKey.kid);
  expect(laptop.account()?.signedIn).toBe(true);
});
