import { defineCommand } from "./define.js";

/** The profiles in the data dir, and which one the window shows. */
export const profileCommands = [
  defineCommand({
    name: "createProfile",
    input: ({ z, contract }) => z.strictObject({ name: contract.profileNameSchema }),
    run: (host, { name }) => host.createProfile(name),
    channel: "chorus:profiles:create",
    cli: {
      path: ["profile", "create"],
      args: ["name"],
      usage: "profile create <name>",
      help: {
        section: "Profiles",
        usage: "profile create <name>",
        text: ["create a profile (with a local device id until sign-in)"],
      },
      kind: "plain",
      invalidCode: "invalid_profile_name",
      print: (created) => ({
        json: created,
        human:
          `Created profile ${created.name} in ${created.path}\n` +
          `Local device id ${created.deviceId}: it stands for this profile until it signs in; signing in replaces it with the id the server assigns (\`status\` shows the current one).\n`,
      }),
    },
  }),
  defineCommand({
    name: "listProfiles",
    input: ({ z }) => z.undefined(),
    run: (host) => host.listProfiles(),
    channel: "chorus:profiles:list",
    cli: {
      path: ["profile", "list"],
      usage: "profile list",
      help: {
        section: "Profiles",
        usage: "profile list",
        text: ["list the profiles in the data dir"],
      },
      kind: "plain",
      print: (profiles, _input, host) => ({
        json: profiles,
        human: profiles.length
          ? `${profiles.map((p) => `${p.name}\t${p.path}`).join("\n")}\n`
          : `No profiles in ${host.dataDir}\n`,
      }),
    },
  }),
  defineCommand({
    name: "switchProfile",
    input: ({ z, contract }) => z.strictObject({ name: contract.profileNameSchema }),
    run: async (host, { name }) => {
      await host.switchProfile(name);
      return host.status();
    },
    channel: "chorus:profiles:switch",
    cli: null,
    cliAbsent: "each CLI process opens the profile --profile names",
  }),
  defineCommand({
    name: "getStatus",
    input: ({ z }) => z.undefined(),
    run: (host) => host.status(),
    channel: "chorus:profile:status",
    cli: null,
    cliAbsent: "the CLI's status prints the whole diagnostics (getDiagnostics)",
  }),
] as const;
