import {
  createProfile,
  listProfiles,
  openProfile,
  type Profile,
  type ProfileStatus,
  type ProfileSummary,
  readProfileStatus,
} from "@chorus/desktop-sync";

/** The slice of the device engine the window sees. */
export interface DesktopEngine {
  readonly dataDir: string;
  readonly profileName: string;
  status(): ProfileStatus;
  listProfiles(): ProfileSummary[];
  createProfile(name: string): ProfileSummary;
  close(): void;
}

const DEFAULT_PROFILE = "default";

/**
 * Opens the engine on the profile the app starts with: the requested one (created when
 * missing, so CHORUS_PROFILE=qa just works), else "default" when it exists or nothing does,
 * else the first by name. Profile switching in the UI comes later.
 */
export function openDesktopEngine(options: { dataDir: string; profile?: string }): DesktopEngine {
  const { dataDir } = options;
  const name = startupProfileName(dataDir, options.profile);
  if (!listProfiles(dataDir).some((p) => p.name === name)) createProfile(dataDir, name);
  const profile: Profile = openProfile(dataDir, name);

  return {
    dataDir,
    profileName: profile.name,
    status: () => readProfileStatus(profile),
    listProfiles: () => listProfiles(dataDir),
    createProfile: (newName) => {
      const { name: created, path } = createProfile(dataDir, newName);
      return { name: created, path };
    },
    close: () => profile.close(),
  };
}

function startupProfileName(dataDir: string, requested: string | undefined): string {
  if (requested !== undefined) return requested;
  const existing = listProfiles(dataDir);
  if (existing.length === 0 || existing.some((p) => p.name === DEFAULT_PROFILE)) {
    return DEFAULT_PROFILE;
  }
  return existing[0]?.name ?? DEFAULT_PROFILE;
}
