/**
 * DEV ONLY: mints a device access token signed with the local dev key, for poking the sync
 * server by hand or from scripts. Refuses to run when NODE_ENV=production.
 *
 *   npm run -s mint-dev-token -w @chorus/auth -- --user <uuid> --device <uuid> [--ttl 600]
 *     [--key-file path]
 *
 * A device token never carries the admin role, so there is no --role.
 *
 * Prints only the token on stdout (so `TOKEN=$(...)` works); details go to stderr.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { defaultDevKeyFile, loadOrCreateDevSigningKey } from "../keys.js";
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS, mintAccessToken } from "../tokens.js";

const Env = z.object({
  NODE_ENV: z.string().optional(),
  CHORUS_DEV_KEY_FILE: z.string().optional(),
});

const Args = z.object({
  user: z.uuid("--user must be a user id (UUID)"),
  device: z.uuid("--device must be a device id (UUID)"),
  ttl: z.coerce.number().int().default(DEFAULT_ACCESS_TOKEN_TTL_SECONDS),
  "key-file": z.string().optional(),
});

async function main(): Promise<void> {
  const env = Env.parse(process.env);
  if (env.NODE_ENV === "production") {
    throw new Error("mint-dev-token is for development only and refuses NODE_ENV=production");
  }
  const { values } = parseArgs({
    options: {
      user: { type: "string" },
      device: { type: "string" },
      ttl: { type: "string" },
      "key-file": { type: "string" },
    },
  });
  const parsed = Args.safeParse(values);
  if (!parsed.success) {
    throw new Error(
      `${z.prettifyError(parsed.error)}\nusage: mint-dev-token --user <uuid> --device <uuid> [--ttl seconds] [--key-file path]`,
    );
  }
  const args = parsed.data;
  const keyFile = args["key-file"] ?? env.CHORUS_DEV_KEY_FILE ?? defaultDevKeyFile();
  const key = await loadOrCreateDevSigningKey(keyFile);
  const { token, expiresAt } = await mintAccessToken(
    key,
    { kind: "device", userId: args.user, deviceId: args.device, role: "user" },
    { ttlSeconds: args.ttl },
  );
  console.error(`key ${key.kid} from ${keyFile}; expires ${expiresAt.toISOString()}`);
  console.log(token);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
