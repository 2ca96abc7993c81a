import { tokenClaims } from "../sync/session.js";
import { defineCommand } from "./define.js";
import { refuseIfRevoked } from "./waiting.js";

/** The account binding and how the profile uses the server. */
export const accountCommands = [
  defineCommand({
    name: "signIn",
    input: ({ z }) =>
      z.strictObject({
        webUrl: z.url({
          protocol: /^https?$/,
          error: "the web address must start with http:// or https://",
        }),
        deviceName: z.string().trim().min(1).max(80).optional(),
      }),
    run: (host, { webUrl, deviceName }) => host.signInWithBrowser(webUrl, deviceName),
    channel: "chorus:account:sign-in",
    cli: {
      path: ["signin"],
      options: [{ name: "web-url", type: "string" }],
      usage: "signin --web-url <url>",
      help: {
        section: "Account and sync",
        usage: "signin --web-url <url> [--no-open]",
        text: ["sign in through the browser (prints the URL to open)"],
      },
      kind: "plain",
      check: (raw) => (raw.webUrl ? null : "signin needs --web-url <url of the Chorus web app>"),
      print: ({ account }) => ({
        json: { account },
        human: `Signed in as ${account?.email ?? account?.userId}\n`,
      }),
    },
  }),
  defineCommand({
    name: "cancelSignIn",
    input: ({ z }) => z.undefined(),
    run: (host) => host.cancelSignIn(),
    channel: "chorus:account:cancel-sign-in",
    cli: null,
    cliAbsent: "Ctrl-C cancels a sign-in the CLI waits for",
  }),
  defineCommand({
    name: "bindToken",
    input: ({ z }) => z.strictObject({ syncUrl: z.string().min(1), token: z.string().min(1) }),
    run: async (host, { syncUrl, token }) => {
      const claims = tokenClaims(token);
      await host.engine.bindWithToken({
        syncUrl,
        token,
        userId: claims.userId,
        deviceId: claims.deviceId,
      });
      return { account: host.engine.account(), claims };
    },
    channel: null,
    desktopAbsent:
      "the window signs in through the browser; fixed tokens are for tests and scripts",
    cli: {
      path: ["bind-token"],
      options: [
        { name: "sync-url", type: "string" },
        { name: "token", type: "string" },
      ],
      usage: "bind-token --sync-url <url> --token <jwt>",
      help: {
        section: "Account and sync",
        usage: "bind-token --sync-url <url> --token <jwt>",
        text: ["bind with a fixed device token (tests and scripts)"],
      },
      kind: "plain",
      check: (raw) => {
        if (!raw.syncUrl || !raw.token) return "bind-token needs --sync-url and --token";
        try {
          tokenClaims(String(raw.token));
          return null;
        } catch (error) {
          return `--token: ${(error as Error).message}`;
        }
      },
      print: ({ account, claims }) => ({
        json: { account },
        human: `Bound to ${claims.userId} as device ${claims.deviceId}\n`,
      }),
    },
  }),
  defineCommand({
    name: "signOut",
    input: ({ z }) => z.undefined(),
    run: async (host) => {
      const { revokedOnServer } = await host.engine.signOut();
      return { ...host.settings(), revokedOnServer };
    },
    channel: "chorus:account:sign-out",
    cli: {
      path: ["signout"],
      usage: "signout",
      help: {
        section: "Account and sync",
        usage: "signout",
        text: ["forget the account; the library stays here"],
      },
      kind: "plain",
      print: ({ revokedOnServer }) => ({
        json: { signedOut: true, revokedOnServer },
        human: revokedOnServer
          ? "Signed out; this device is unbound on the server and the library stays here\n"
          : "Signed out on this computer (the server could not be told); the library stays here\n",
      }),
    },
  }),
  defineCommand({
    name: "getSettings",
    input: ({ z }) => z.undefined(),
    run: (host) => host.settings(),
    channel: "chorus:settings:get",
    cli: {
      path: ["mode"],
      usage: "mode [local|hybrid|server]",
      help: {
        section: "Account and sync",
        usage: "mode [local|hybrid|server]",
        text: ["show or set how this profile uses the server"],
      },
      kind: "plain",
      print: ({ mode }) => ({ json: { mode }, human: `${mode}\n` }),
    },
  }),
  defineCommand({
    name: "setMode",
    input: ({ z, contract }) => z.strictObject({ mode: contract.syncModeSchema }),
    run: async (host, { mode }) => {
      await host.engine.setMode(mode);
      return host.settings();
    },
    channel: "chorus:settings:mode",
    cli: {
      path: ["mode"],
      args: ["mode"],
      usage: "mode [local|hybrid|server]",
      help: { with: "getSettings" },
      kind: "plain",
      check: ({ mode }) =>
        mode === "local" || mode === "hybrid" || mode === "server"
          ? null
          : `unknown mode "${String(mode)}": use local, hybrid or server`,
      // Server-connected mode needs the network side running to load the library.
      prepare: async (host, { mode }) => {
        if (mode !== "server") return;
        refuseIfRevoked(host);
        await host.engine.start();
      },
      print: (_settings, { mode }) => ({ json: { mode }, human: `Mode: ${mode}\n` }),
    },
  }),
] as const;
