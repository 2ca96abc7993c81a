import { runCli } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ fleet: "file" });

async function cliJson(args: string[], dataDir: string): Promise<unknown> {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...args, "--data-dir", dataDir, "--json"], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    platform: "linux",
    homedir: dataDir,
    cwd: dataDir,
  });
  if (code !== 0) throw new Error(`chorus-device ${args.join(" ")} failed: ${stderr}`);
  return JSON.parse(stdout);
}

describe("overwritten values between two real engines", () => {
  it("A and B edit the same field; the loser's record names the winner's device, the winner's names the loser's", async () => {
    const account = await suite.backend.createAccount();
    const a = suite.fleet.open("laptop");
    const b = suite.fleet.open("studio");
    await a.bind((await account.device("Laptop")).session);
    await b.bind((await account.device("Studio")).session);
    await a.start();
    await b.start();
    await waitUntil("both connected", () =>
      [a, b].every((engine) => engine.diagnostics().connection === "connected"),
    );
    const { id } = await a.createPlaylist("Morning");
    await waitUntil("the playlist on B", () => b.playlist(id)?.name === "Morning");

    // A edits while it does not sync; B edits the same field later, with a higher stamp (its
    // clock saw A's create, then its own create and rename), and uploads first.
    await a.setMode("local");
    await a.renamePlaylist(id, "Laptop name");
    await b.createPlaylist("Other");
    await b.renamePlaylist(id, "Studio name");
    await waitUntil("B uploaded", () => b.diagnostics().pendingCount === 0);
    await a.setMode("hybrid");

    await waitUntil(
      "both converged on B's name, A's queue empty",
      () =>
        a.playlist(id)?.name === "Studio name" &&
        b.playlist(id)?.name === "Studio name" &&
        a.diagnostics().pendingCount === 0,
    );
    await waitUntil(
      "A's record names B (the account's device list reached A)",
      () => a.overwritten()[0]?.won.deviceName === "Studio",
    );
    expect(a.overwritten()).toMatchObject([
      {
        entity: "playlist",
        entityId: id,
        field: "name",
        outcome: "lost",
        lost: { value: "Laptop name", deviceId: a.deviceId(), here: true },
        won: { value: "Studio name", deviceId: b.deviceId(), deviceName: "Studio", here: false },
      },
    ]);
    await waitUntil("B's record of A's lost edit", () => b.overwritten().length === 1);
    await waitUntil("B's record names A", () => b.overwritten()[0]?.lost.deviceName === "Laptop");
    expect(b.overwritten()).toMatchObject([
      {
        entityId: id,
        outcome: "won",
        lost: { value: "Laptop name", deviceId: a.deviceId(), deviceName: "Laptop" },
        won: { value: "Studio name", here: true },
      },
    ]);
    expect(a.diagnostics().overwrittenCount).toBe(1);

    // The CLI reads the same records from the profile (another process would open the file).
    const records = (await cliJson(
      ["conflicts", "--profile", "laptop"],
      suite.fleet.dataDir,
    )) as Array<{ won: { deviceName: string } }>;
    expect(records.map((r) => r.won.deviceName)).toEqual(["Studio"]);
    expect(
      await cliJson(["conflicts", "dismiss", "--profile", "laptop"], suite.fleet.dataDir),
    ).toEqual({ dismissed: 1 });
    expect(a.overwritten()).toEqual([]);
    expect(a.diagnostics().overwrittenCount).toBe(0);
  });

  it("server-connected mode records into the profile file: the record outlives the in-memory library", async () => {
    const account = await suite.backend.createAccount();
    const a = suite.fleet.open("online");
    const b = suite.fleet.open("travel");
    await a.bind((await account.device("Online desktop")).session);
    await b.bind((await account.device("Travel laptop")).session);
    await a.start();
    await b.start();
    const { id } = await a.createPlaylist("Shared");
    await waitUntil("the playlist on B", () => b.playlist(id)?.name === "Shared");
    await waitUntil("A uploaded", () => a.diagnostics().pendingCount === 0);
    await a.setMode("server");
    await waitUntil("A loaded from the server", () => a.diagnostics().connection === "connected");

    // B goes offline; A renames through the server; B then renames twice as late (in stamps).
    await b.setMode("local");
    await a.renamePlaylist(id, "Online name");
    await b.createPlaylist("Travel extra");
    await b.renamePlaylist(id, "Travel name");
    await b.setMode("hybrid");
    await waitUntil("A shows B's name", () => a.playlist(id)?.name === "Travel name");
    await waitUntil(
      "A's record names B",
      () => a.overwritten()[0]?.won.deviceName === "Travel laptop",
    );
    expect(a.overwritten()).toMatchObject([
      { entityId: id, outcome: "lost", lost: { value: "Online name", here: true } },
    ]);

    // The in-memory library is gone when the engine closes; the record is in the profile file.
    await a.close();
    const reopened = suite.fleet.open("online");
    expect(reopened.overwritten()).toMatchObject([
      { entityId: id, outcome: "lost", won: { value: "Travel name", deviceName: "Travel laptop" } },
    ]);
  });
});
