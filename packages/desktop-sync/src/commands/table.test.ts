import { describe, expect, it } from "vitest";
import { resolveCommand, USAGE } from "../cli/usage.js";
import { COMMANDS, commandNamed } from "./index.js";

/*
 * The CLI is derived from the command table: every entry with a CLI spec is what its words
 * resolve to and has a line in --help; every entry without one says why, and no words reach
 * it. A command added to the table that the CLI misses fails here (the window's surfaces are
 * checked in apps/desktop's commands.test.ts).
 */

describe("the CLI derived from the command table", () => {
  it("every CLI command is what its words (with its arguments) resolve to", () => {
    for (const command of COMMANDS) {
      if (!command.cli) continue;
      const words = [...command.cli.path, ...(command.cli.args ?? []).map((arg) => `<${arg}>`)];
      const values = command.cli.selectedBy ? { [command.cli.selectedBy]: true } : {};
      expect(resolveCommand(words, values).command.name, words.join(" ")).toBe(command.name);
    }
  });

  it("every CLI command has a line in --help, its own or the one of the command it names", () => {
    for (const command of COMMANDS) {
      if (!command.cli) continue;
      const { help } = command.cli;
      const line = "with" in help ? commandNamed(help.with)?.cli?.help : help;
      expect(line && !("with" in line), `${command.name}: help line`).toBe(true);
      if (line && !("with" in line)) expect(USAGE).toContain(`  ${line.usage}`);
      // The words of the command itself appear on that line.
      const usage = line && !("with" in line) ? line.usage : "";
      for (const word of command.cli.path.slice(1)) expect(usage).toContain(word);
    }
  });

  it("a command without a CLI says why, and no words reach it", () => {
    const absent = COMMANDS.filter((command) => command.cli === null);
    expect(absent.length).toBeGreaterThan(0);
    const reachable = new Set(
      COMMANDS.flatMap((command) =>
        command.cli
          ? [
              resolveCommand(
                [...command.cli.path, ...(command.cli.args ?? [])],
                command.cli.selectedBy ? { [command.cli.selectedBy]: true } : {},
              ).command.name,
            ]
          : [],
      ),
    );
    for (const command of absent) {
      expect(command.cliAbsent, command.name).toMatch(/\w+/);
      expect(reachable.has(command.name)).toBe(false);
    }
  });

  it("names are unique", () => {
    const names = COMMANDS.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
