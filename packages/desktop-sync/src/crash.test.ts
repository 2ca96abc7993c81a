import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor, waitForExit } from "@chorus/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryTokenStore } from "./auth/token-store.js";
import { DeviceEngine } from "./engine.js";
import { createProfile, openProfile } from "./profiles.js";
import { allPending } from "./queue.js";
import { makeTempDir } from "./test-support.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
  createProfile(temp.path, "main");
});
afterEach(() => temp.remove());

function rowsAndOps(): { playlists: number; ops: number; registers: number } {
  const profile = openProfile(temp.path, "main");
  try {
    return {
      playlists: profile.db.prepare("SELECT COUNT(*) FROM playlists").pluck().get() as number,
      ops: allPending(profile.db).length,
      registers: profile.db.prepare("SELECT COUNT(*) FROM lww_entity").pluck().get() as number,
    };
  } finally {
    profile.close();
  }
}

/**
 * Starts the child script `script` (src/testing/) on this test's profile, hands each chunk of
 * its stdout to `heard` until that answers true, then kills it (SIGKILL) and waits for it to go.
 */
async function killOnceHeard(
  script: string,
  args: string[],
  what: string,
  heard: (chunk: string) => boolean,
): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      fileURLToPath(new URL(`./testing/${script}`, import.meta.url)),
      temp.path,
      "main",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await waitFor<void>(what, (resolve, reject) => {
    const onData = (chunk: Buffer) => {
      if (heard(chunk.toString())) resolve();
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the child exited (${code}) before ${what}`));
    child.stdout.on("data", onData);
    child.once("exit", onExit);
    return () => {
      child.stdout.off("data", onData);
      child.off("exit", onExit);
    };
  });
  const exited = waitForExit(child, "the killed child to exit");
  child.kill("SIGKILL");
  await exited;
}

describe("a crash between the domain write and the queue", () => {
  it("a thrown error inside the transaction keeps neither the row nor the op nor the timestamp", async () => {
    let fail = false;
    const engine = DeviceEngine.open({
      dataDir: temp.path,
      profile: "main",
      tokenStore: memoryTokenStore(),
      hooks: {
        afterDomainWrite() {
          if (fail) throw new Error("disk full");
        },
      },
    });
    try {
      await engine.createPlaylist("kept");
      fail = true;
      await expect(engine.createPlaylist("lost")).rejects.toThrow("disk full");
      expect(engine.playlists().map((p) => p.name)).toEqual(["kept"]);
      expect(engine.diagnostics()).toMatchObject({ pendingCount: 1, lamport: 1 });
    } finally {
      await engine.close();
    }
  });

  it("a process killed inside the transaction leaves every committed edit with its op, and nothing of the last", async () => {
    await killOnceHeard("crash-child.ts", ["4"], "the child to reach the failpoint", (chunk) =>
      chunk.includes("inside the transaction"),
    );
    // Three edits committed before the kill; the fourth had written its row, not its op.
    expect(rowsAndOps()).toEqual({ playlists: 3, ops: 3, registers: 3 });
  });
});

describe("a crash while SQLite checkpoints the WAL", () => {
  /**
   * Runs the child until it has reported `atLeast` renames and kills it; answers its playlist
   * and the last rename it reported.
   */
  async function killWhileRenaming(atLeast: number): Promise<{ id: string; reported: number }> {
    let last = -1;
    let id = "";
    let text = "";
    await killOnceHeard(
      "checkpoint-crash-child.ts",
      [],
      `the child to report ${atLeast} renames`,
      (chunk) => {
        text += chunk;
        id ||= /playlist (\S+)\n/.exec(text)?.[1] ?? "";
        for (const match of text.matchAll(/committed (\d+)\n/g)) last = Number(match[1]);
        text = text.slice(text.lastIndexOf("\n") + 1);
        return last >= atLeast;
      },
    );
    return { id, reported: last };
  }

  it("an app killed while a commit checkpoints keeps every edit it committed, queued in order", async () => {
    // Three kills of one profile, each reopening what the previous one left.
    for (const atLeast of [150, 400, 700]) {
      const { id, reported } = await killWhileRenaming(atLeast);
      const profile = openProfile(temp.path, "main");
      try {
        expect(profile.db.pragma("integrity_check", { simple: true })).toBe("ok");
        const name = profile.db
          .prepare("SELECT name FROM playlists WHERE id = ?")
          .pluck()
          .get(id) as string;
        // A rename at least as late as the last one reported (a later one may have committed
        // before its report was written).
        expect(Number(/^rename (\d+)$/.exec(name)?.[1] ?? -1)).toBeGreaterThanOrEqual(reported);
        // The queue holds its ops in the order they were made: lamport values only rise.
        const lamports = allPending(profile.db).map((op) => op.lamportTs);
        expect(lamports).toEqual([...lamports].sort((a, b) => a - b));
      } finally {
        profile.close();
      }
    }
  });
});
