import { isEngineError } from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";
import { CuttingProxy } from "../support/proxy.js";

let backend: TestBackend;
let fleet: EngineFleet;
let proxy: CuttingProxy;
beforeAll(async () => {
  backend = await TestBackend.start();
  proxy = await CuttingProxy.start(() => backend.server.port);
});
afterAll(async () => {
  await proxy?.close();
  await backend?.close();
});
afterEach(async () => {
  await fleet?.close();
});

describe("a server-connected write whose answer is lost after commit", () => {
  it("is re-sent under the same operation ids: one entity, even when the user retries", async () => {
    fleet = new EngineFleet();
    const account = await backend.createAccount();
    const thin = fleet.open("thin");
    await thin.bind((await account.device("thin", proxy.url)).session);
    await thin.setMode("server");
    await thin.start();
    await thin.createPlaylist("Loaded first");
    await waitUntil("the first write is shown", () => thin.playlists().length === 1);

    proxy.cutNextPushAnswer();
    // What a user does with a write that reports failure: try it once more.
    const write = () => thin.createPlaylist("Made once");
    const made = await write().catch(async (error: unknown) => {
      if (isEngineError(error) && error.code === "offline") return write();
      throw error;
    });
    // The write travelled on the device's socket, which was cut with its answer.
    expect(proxy.cutOver).toEqual(["ws"]);
    expect(made.name).toBe("Made once");

    const stored = await backend.ops(account.userId);
    expect(stored).toHaveLength(2);
    await waitUntil(
      "the library shows it once",
      () => thin.playlists().filter((p) => p.name === "Made once").length === 1,
    );
    expect(thin.playlists().filter((p) => p.name === "Made once")).toHaveLength(1);
  });
});
