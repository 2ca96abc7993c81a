import type { EncryptionStatus } from "../contract.js";
import { defineCommand, type Zod } from "./define.js";

/*
 * End-to-end encryption (ADR 0018): the status, and the encryption password's life on a
 * device. On the command line the password is an option (tests and scripts); it shows in the
 * process list, so a person types it in the desktop window instead.
 */

const password = (z: Zod) => z.string().min(1, "the encryption password cannot be empty").max(1024);

function describe(status: EncryptionStatus): string {
  const lines: string[] = [];
  if (status.account === "unknown") {
    lines.push("Encryption: not known yet (this device has not reached the server)");
  } else if (status.account === "off") {
    lines.push("Encryption: off (the account has no encryption password; values sync in clear)");
  } else if (status.unlocked) {
    lines.push(`Encryption: on, unlocked (key epoch ${status.epoch})`);
  } else {
    lines.push(
      `Encryption: on, LOCKED (key epoch ${status.epoch}): enter the encryption password (encryption unlock --password ...); nothing syncs meanwhile`,
    );
  }
  if (status.unreadableCount > 0) {
    lines.push(`Refused values from the server: ${status.unreadableCount} (never applied)`);
    for (const op of status.unreadable.slice(0, 5)) {
      lines.push(
        `  #${op.id} ${op.entity}/${op.entityId}${op.field ? `.${op.field}` : ""}: ${op.code}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

const printStatus = (status: EncryptionStatus) => ({ json: status, human: describe(status) });

export const encryptionCommands = [
  defineCommand({
    name: "getEncryptionStatus",
    input: ({ z }) => z.undefined(),
    run: (host) => host.engine.encryptionStatus(),
    channel: "chorus:encryption:status",
    cli: {
      path: ["encryption", "status"],
      usage: "encryption status",
      help: {
        section: "Account and sync",
        usage: "encryption status",
        text: ["end-to-end encryption: on or off, locked or unlocked, refused values"],
      },
      kind: "plain",
      print: printStatus,
    },
  }),
  defineCommand({
    name: "setEncryptionPassword",
    input: ({ z }) => z.strictObject({ password: password(z) }),
    run: (host, input) => host.engine.setEncryptionPassword(input.password),
    channel: "chorus:encryption:set-password",
    cli: {
      path: ["encryption", "set-password"],
      options: [{ name: "password", type: "string" }],
      usage: "encryption set-password --password <password>",
      help: {
        section: "Account and sync",
        usage: "encryption set-password --password <pw>",
        text: [
          "first device: encrypt the account under this password",
          "(lost, it cannot be recovered by anyone)",
        ],
      },
      kind: "account",
      check: (raw) => (raw.password ? null : "encryption set-password needs --password"),
      print: printStatus,
    },
  }),
  defineCommand({
    name: "unlockEncryption",
    input: ({ z }) => z.strictObject({ password: password(z) }),
    run: (host, input) => host.engine.unlockEncryption(input.password),
    channel: "chorus:encryption:unlock",
    cli: {
      path: ["encryption", "unlock"],
      options: [{ name: "password", type: "string" }],
      usage: "encryption unlock --password <password>",
      help: {
        section: "Account and sync",
        usage: "encryption unlock --password <pw>",
        text: ["another device: enter the account's encryption password"],
      },
      kind: "account",
      check: (raw) => (raw.password ? null : "encryption unlock needs --password"),
      print: printStatus,
    },
  }),
  defineCommand({
    name: "changeEncryptionPassword",
    input: ({ z }) => z.strictObject({ password: password(z), newPassword: password(z) }),
    run: (host, input) => host.engine.changeEncryptionPassword(input.password, input.newPassword),
    channel: "chorus:encryption:change-password",
    cli: {
      path: ["encryption", "change-password"],
      options: [
        { name: "password", type: "string" },
        { name: "new-password", type: "string" },
      ],
      usage: "encryption change-password --password <old> --new-password <new>",
      help: {
        section: "Account and sync",
        usage: "encryption change-password --password <old> --new-password <new>",
        text: ["rewrap the key under a new password; every device keeps working"],
      },
      kind: "account",
      check: (raw) =>
        raw.password && raw.newPassword
          ? null
          : "encryption change-password needs --password and --new-password",
      print: printStatus,
    },
  }),
  defineCommand({
    name: "resetEncryption",
    input: ({ z }) => z.strictObject({ password: password(z) }),
    run: (host, input) => host.engine.resetEncryption(input.password),
    channel: "chorus:encryption:reset",
    cli: {
      path: ["encryption", "reset"],
      options: [{ name: "password", type: "string" }],
      usage: "encryption reset --password <new password>",
      help: {
        section: "Account and sync",
        usage: "encryption reset --password <new>",
        text: [
          "password lost: a new key from this device's library;",
          "other devices must enter the new password",
        ],
      },
      kind: "account",
      check: (raw) => (raw.password ? null : "encryption reset needs --password"),
      print: printStatus,
    },
  }),
] as const;
