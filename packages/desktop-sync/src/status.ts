import { type ProfileStatus, profileStatusSchema } from "./contract.js";
import type { Profile } from "./profiles.js";
import { readMeta } from "./store/meta.js";

/** A consistent snapshot (one read transaction) of what a profile's sync state is. */
export function readProfileStatus(profile: Profile): ProfileStatus {
  const { db } = profile;
  return db.transaction(() =>
    profileStatusSchema.parse({
      profile: profile.name,
      deviceId: profile.deviceId,
      lamport: profile.clock.current(),
      pendingCount: db.prepare("SELECT COUNT(*) FROM sync_pending_op").pluck().get(),
      cursor: Number(readMeta(db, "cursor") ?? "0"),
      serverUrl: readMeta(db, "server_url") ?? null,
    }),
  )();
}
