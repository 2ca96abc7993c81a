import { z } from "zod";

/**
 * What the engine shows to the outside (the Electron renderer through IPC, the CLI's --json
 * output). Zod only, no Node APIs: the Electron renderer and preload import these types.
 */

/**
 * A profile's name is also its folder name, so it is restricted to characters that are
 * safe and case-unambiguous on every file system we ship to.
 */
export const profileNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    'a profile name is 1 to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit',
  );
export type ProfileName = z.infer<typeof profileNameSchema>;

export const profileSummarySchema = z.object({
  name: profileNameSchema,
  /** The profile's folder: its SQLite file and, later, its credentials live there. */
  path: z.string(),
});
export type ProfileSummary = z.infer<typeof profileSummarySchema>;

export const profileStatusSchema = z.object({
  profile: profileNameSchema,
  deviceId: z.uuid(),
  lamport: z.int().nonnegative(),
  pendingCount: z.int().nonnegative(),
  /** The last server op id this device has applied. */
  cursor: z.int().nonnegative(),
  /** null until the profile is bound to an account. */
  serverUrl: z.string().nullable(),
});
export type ProfileStatus = z.infer<typeof profileStatusSchema>;

export const engineErrorCodeSchema = z.enum([
  "invalid_profile_name",
  "profile_exists",
  "profile_not_found",
  "profile_ambiguous",
  "profile_corrupt",
  "schema_too_new",
  "invalid_lamport",
]);
export type EngineErrorCode = z.infer<typeof engineErrorCodeSchema>;
