import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mintAccessToken } from "@chorus/auth";
import { openProfile } from "@chorus/desktop-sync";
import { checkCommandLine, makeTempDir, runCliCaptured } from "@chorus/desktop-sync/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "./support/backend.js";

/*
 * Every command a runbook (docs/runbooks/*.md) gives is run here, as written, against a real
 * system: the built sync server on port 0 over a fresh PostgreSQL database with Redis, the
 * built `chorus-device` on PATH, and two CLI profiles bound to one real account. Placeholders
 * (<profile>, <sync-url>, ...) are filled from that set-up. A block tagged `sh run` must exit
 * as it says (`exit=N`, else 0) and print what its `# prints:` lines say; `sh not-run: why`
 * is not run. A command outside a tagged block fails the first test, so a runbook cannot give
 * a command that nothing checks. The tags are described in docs/runbooks/README.md.
 */

const RUNBOOKS = fileURLToPath(new URL("../../docs/runbooks/", import.meta.url));
const CLI_BIN = fileURLToPath(
  new URL("../../packages/desktop-sync/bin/chorus-device.mjs", import.meta.url),
);
/** Runbooks in the order their blocks run (state carries from one block to the next). */
const ORDER = ["devices.md", "compaction.md", "redis.md", "encryption-password.md"];
/** The first word of an inline code span that makes it a command line. */
const COMMAND_WORDS = new Set([
  "chorus-device",
  "curl",
  "redis-cli",
  "kill",
  "psql",
  "npm",
  "npx",
  "node",
  "systemctl",
  "docker",
]);

interface Command {
  line: number;
  text: string;
  prints: string[];
}

interface Block {
  file: string;
  line: number;
  info: string;
  run: boolean;
  exit: number;
  setup: string | null;
  reason: string | null;
  commands: Command[];
}

/** The fenced blocks of a runbook, and what is wrong with its commands (untagged, in prose). */
export function parseRunbook(file: string, text: string): { blocks: Block[]; problems: string[] } {
  const blocks: Block[] = [];
  const problems: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```(.*)$/.exec(lines[i] ?? "");
    if (!fence) {
      for (const span of (lines[i] ?? "").matchAll(/`([^`]+)`/g)) {
        const words = (span[1] ?? "").trim().split(/\s+/);
        if (words.length > 1 && COMMAND_WORDS.has(words[0] ?? "")) {
          problems.push(`${file}:${i + 1}: a command outside a tagged block: ${span[1]}`);
        }
      }
      continue;
    }
    const info = (fence[1] ?? "").trim();
    const start = i + 1;
    const body: Array<{ line: number; text: string }> = [];
    for (i += 1; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ""); i++) {
      body.push({ line: i + 1, text: (lines[i] ?? "").trim() });
    }
    const tag = /^sh (?:(run)((?: [a-z]+=\S+)*)|not-run: (\S.*))$/.exec(info);
    if (!tag) {
      problems.push(
        `${file}:${start}: a block tagged neither "sh run" nor "sh not-run: <why>": ${info}`,
      );
      continue;
    }
    const options = new Map(
      (tag[2] ?? "")
        .trim()
        .split(" ")
        .filter(Boolean)
        .map((pair) => pair.split("=") as [string, string]),
    );
    const commands: Command[] = [];
    for (const { line, text: content } of body) {
      const prints = /^# prints: (.+)$/.exec(content);
      if (prints) {
        const last = commands.at(-1);
        if (last) last.prints.push(prints[1] ?? "");
        else problems.push(`${file}:${line}: "# prints:" before any command`);
      } else if (content !== "" && !content.startsWith("#")) {
        commands.push({ line, text: content, prints: [] });
      }
    }
    if (commands.length === 0) problems.push(`${file}:${start}: a command block with no command`);
    blocks.push({
      file,
      line: start,
      info,
      run: tag[1] === "run",
      exit: Number(options.get("exit") ?? 0),
      setup: options.get("setup") ?? null,
      reason: tag[3] ?? null,
      commands,
    });
  }
  return { blocks, problems };
}

const files = readdirSync(RUNBOOKS)
  .filter((name) => name.endsWith(".md"))
  .sort((a, b) => {
    const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
const parsed = files.map((file) => parseRunbook(file, readFileSync(join(RUNBOOKS, file), "utf8")));
const blocks = parsed.flatMap((p) => p.blocks);

describe("the runbooks' command blocks", () => {
  it("tag every command: run by this test, or not run with a reason", () => {
    expect(parsed.flatMap((p) => p.problems)).toEqual([]);
    expect(blocks.filter((b) => b.run).length).toBeGreaterThanOrEqual(8);
    for (const block of blocks.filter((b) => !b.run)) expect(block.reason).toMatch(/\w{3,}/);
  });

  it("the check itself flags an untagged block and a command given in a sentence", () => {
    const { problems } = parseRunbook(
      "x.md",
      [
        "Run `chorus-device --profile p push` now.",
        "```sh",
        "chorus-device --profile p push",
        "```",
        "```sh run exit=1",
        "# prints: nothing before a command",
        "```",
      ].join("\n"),
    );
    expect(problems).toEqual([
      "x.md:1: a command outside a tagged block: chorus-device --profile p push",
      'x.md:2: a block tagged neither "sh run" nor "sh not-run: <why>": sh',
      'x.md:6: "# prints:" before any command',
      "x.md:5: a command block with no command",
    ]);
  });
});

/** A command line's words as the shell splits them (quotes kept together, not expanded). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

describe("the runbooks' commands that cannot run here", () => {
  const device = blocks
    .filter((b) => !b.run)
    .flatMap((b) => b.commands.map((c) => ({ block: b, command: c })))
    .filter(({ command }) => command.text.startsWith("chorus-device "));

  it("still name a command and options the CLI accepts", async () => {
    expect(device.length).toBeGreaterThan(0);
    for (const { block, command } of device) {
      // Nothing is set up for them: placeholders get example values of their kind.
      const filled = command.text.replace(/<([a-z][a-z-]*)>/g, (_, name: string) =>
        name.endsWith("-url") ? "https://chorus.example.com" : `example-${name}`,
      );
      const where = `${block.file}:${command.line}: ${command.text}`;
      await expect(checkCommandLine(words(filled).slice(1)), where).resolves.toMatch(/\w/);
    }
  });

  it("the check itself refuses a renamed option and an unknown command", async () => {
    await expect(checkCommandLine(["signin", "--web-address", "http://x"])).rejects.toThrow(
      /Unknown option '--web-address'/,
    );
    await expect(checkCommandLine(["sign-in", "--web-url", "http://x"])).rejects.toThrow(
      /unknown command "sign-in"/,
    );
    await expect(checkCommandLine(["signin", "--profile", "p"])).rejects.toThrow(/--web-url/);
  });
});

describe("the runbooks' commands, run against a real system", () => {
  let backend: TestBackend;
  let temp: ReturnType<typeof makeTempDir>;
  let env: NodeJS.ProcessEnv;
  const values = new Map<string, string>();
  const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

  const cli = async (args: string[]) => {
    const run = await runCliCaptured([...args, "--data-dir", temp.path], temp.path);
    if (run.code !== 0) throw new Error(`${args.join(" ")} failed: ${run.stderr}${run.stdout}`);
    return run.stdout;
  };

  /** The states a block can ask for before it runs. */
  const setups: Record<string, () => Promise<void>> = {
    // A row of the laptop's SQLite file changed behind the engine's back: the audit's case.
    tampered: async () => {
      const profile = openProfile(temp.path, "laptop");
      try {
        const changed = profile.db
          .prepare(
            "UPDATE lww_field SET value = ? WHERE entity = 'playlist' AND entity_id = ? AND field = 'name'",
          )
          .run(JSON.stringify("Edited by hand"), values.get("playlist-id"));
        expect(changed.changes).toBe(1);
      } finally {
        profile.close();
      }
    },
    // The account encrypts, and both devices hold its key under the old password.
    encrypted: async () => {
      const password = values.get("old-password") ?? "";
      await cli(["encryption", "set-password", "--password", password, "--profile", "laptop"]);
      await cli(["encryption", "unlock", "--password", password, "--profile", "studio"]);
    },
  };

  beforeAll(async () => {
    backend = await TestBackend.start({
      env: { REDIS_URL: redisUrl, REDIS_PREFIX: `runbooks-${randomUUID()}:` },
    });
    temp = makeTempDir();
    // `chorus-device` on PATH, as on the owner's computer: the built CLI.
    const bin = join(temp.path, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "chorus-device"),
      `#!/bin/sh\nexec "${process.execPath}" "${CLI_BIN}" "$@"\n`,
    );
    chmodSync(join(bin, "chorus-device"), 0o755);

    const account = await backend.createAccount();
    for (const name of ["laptop", "studio"]) {
      const { deviceId } = await account.device(name === "laptop" ? "Laptop" : "Studio");
      const token = await backend.mint(account.userId, deviceId);
      await cli(["profile", "create", name]);
      await cli(["bind-token", "--profile", name, "--sync-url", backend.syncUrl, "--token", token]);
      if (name === "laptop") values.set("device-id", deviceId);
    }
    await cli(["playlist", "create", "Mixtape", "--profile", "laptop"]);
    const profile = openProfile(temp.path, "laptop");
    try {
      const row = profile.db
        .prepare("SELECT entity_id FROM lww_field WHERE entity = 'playlist' LIMIT 1")
        .get() as { entity_id: string } | undefined;
      values.set("playlist-id", row?.entity_id ?? "");
    } finally {
      profile.close();
    }
    const { token: adminToken } = await mintAccessToken(backend.key, {
      userId: randomUUID(),
      role: "admin",
      kind: "web",
    });
    values.set("profile", "laptop");
    values.set("other-profile", "studio");
    values.set("device-name", "Laptop");
    values.set("user-id", account.userId);
    values.set("sync-url", backend.syncUrl);
    values.set("replica-url", backend.syncUrl);
    values.set("admin-token", adminToken);
    values.set("old-password", "correct horse battery staple");
    values.set("new-password", "a brand new passphrase");
    env = {
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      HOME: temp.path,
      CHORUS_DATA_DIR: temp.path,
      REDIS_URL: redisUrl,
    };
  });
  afterAll(async () => {
    temp?.remove();
    await backend?.close();
  });

  /** The command with its placeholders filled; an unknown placeholder fails the test. */
  const fill = (text: string) =>
    text.replace(/<([a-z][a-z-]*)>/g, (whole, name: string) => {
      const value = values.get(name);
      if (value === undefined) throw new Error(`unknown placeholder ${whole} in: ${text}`);
      return value;
    });

  const sh = (command: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "bash",
        ["-c", command],
        { env, cwd: temp.path, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  for (const block of blocks.filter((b) => b.run)) {
    it(`${block.file}:${block.line} ${block.info}`, async () => {
      if (block.setup) {
        const setup = setups[block.setup];
        if (!setup) throw new Error(`unknown setup=${block.setup}`);
        await setup();
      }
      for (const command of block.commands) {
        const filled = fill(command.text);
        const ran = await sh(filled);
        const where = `${block.file}:${command.line}: ${filled}\n${ran.stdout}${ran.stderr}`;
        expect(ran.code, where).toBe(block.exit);
        for (const text of command.prints) expect(ran.stdout, where).toContain(fill(text));
      }
    });
  }
});
