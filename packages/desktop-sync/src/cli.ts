#!/usr/bin/env node
import { homedir } from "node:os";
import { runCli } from "./cli/run.js";

process.exitCode = runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  platform: process.platform,
  homedir: homedir(),
  cwd: process.cwd(),
});
