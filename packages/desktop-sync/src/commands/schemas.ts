import { z } from "zod";
import * as contract from "../contract.js";
import type { SchemaKit } from "./define.js";

/*
 * @chorus/desktop-sync/command-schemas: the input schema of a table entry, built once. Kept
 * apart from the table so what only names or prints commands (the CLI's --help, the window's
 * preload) never loads zod.
 */

const kit: SchemaKit = { z, contract };
const built = new WeakMap<object, z.ZodType>();

export function inputSchema<C extends { input(kit: SchemaKit): z.ZodType }>(
  command: C,
): ReturnType<C["input"]> {
  let schema = built.get(command);
  if (!schema) {
    schema = command.input(kit);
    built.set(command, schema);
  }
  return schema as ReturnType<C["input"]>;
}
