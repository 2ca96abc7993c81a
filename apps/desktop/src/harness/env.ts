import { profileNameSchema } from "@chorus/desktop-sync/contract";
import { z } from "zod";

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** The dev harness's settings, read once (nothing else in it reads process.env). */
const harnessEnvSchema = z.object({
  CHORUS_DATA_DIR: z.string({
    error: "CHORUS_DATA_DIR is required: where the harness keeps its profiles",
  }),
  CHORUS_PROFILE: optional(profileNameSchema),
  HARNESS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  CHORUS_WEB_URL: optional(z.url()),
  /** Stands in for os.hostname() (the device name suggested at sign-in), for tests. */
  CHORUS_HOST_NAME: optional(z.string().min(1).max(80)),
  /** Binds the profile with a fixed device token at start (tests, before web sign-in). */
  CHORUS_DEV_SYNC_URL: optional(z.url()),
  CHORUS_DEV_TOKEN: optional(z.string()),
  /**
   * "http": uploads go over HTTP, not the socket (a network whose proxy filters uploads: the
   * tests' refusing proxy, which cannot see into a socket).
   */
  CHORUS_DEV_UPLOADS: z.enum(["socket", "http"]).default("socket"),
});

export function readHarnessEnv(source: Readonly<Record<string, string | undefined>>) {
  const parsed = harnessEnvSchema.safeParse(source);
  if (!parsed.success) throw new Error(`invalid environment:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
