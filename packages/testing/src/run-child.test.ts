import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runChild } from "./run-child.js";

describe("runChild", () => {
  it("answers the child's exit status", async () => {
    expect(await runChild(process.execPath, ["-e", "process.exit(0)"])).toBe(0);
    expect(await runChild(process.execPath, ["-e", "process.exit(3)"])).toBe(3);
    expect(await runChild("/nonexistent/command", [])).toBe(1);
  });

  it("keeps the caller's own pipes drained while it waits (the embedded Postgres's stderr no longer fills and blocks the database)", async () => {
    // A writer that, like Postgres logging, writes far more than a pipe holds (64 KiB) to a
    // pipe only this process reads, and exits only once every write went through.
    const writer = spawn(
      process.execPath,
      ["-e", "process.stderr.write('x'.repeat(1024 * 1024), () => process.exit(0))"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let read = 0;
    writer.stderr?.on("data", (chunk: Buffer) => {
      read += chunk.length;
    });
    // The command the caller waits for needs the writer to finish, as the test suites need
    // Postgres to answer. With a blocking wait nothing reads the pipe and it never does.
    const waitForWriter = `
      const deadline = Date.now() + 60_000;
      const alive = () => { try { process.kill(${writer.pid}, 0); return true; } catch { return false; } };
      const tick = () => {
        if (!alive()) process.exit(0);
        if (Date.now() > deadline) process.exit(7);
        setTimeout(tick, 50);
      };
      tick();
    `;
    const status = await runChild(process.execPath, ["-e", waitForWriter]);
    expect(status).toBe(0);
    expect(read).toBe(1024 * 1024);
  });
});
