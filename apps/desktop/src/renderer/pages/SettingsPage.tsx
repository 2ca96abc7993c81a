import type { SyncMode } from "@chorus/desktop-sync/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslations } from "use-intl";
import type { Settings } from "../../shared/ipc-schemas.js";
import { Alerts } from "../Alerts.js";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "../bridge.js";

export function SettingsPage() {
  const t = useTranslations("Desktop.settings");
  const settings = useQuery({
    queryKey: queryKeys.settings,
    queryFn: () => unwrap(window.chorus.getSettings()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  return (
    <div className="settings">
      <h1>{t("title")}</h1>
      {settings.isError && <p role="alert">{settings.error.message}</p>}
      {settings.data && <AccountCard settings={settings.data} />}
      {settings.data && (
        <ModeCard mode={settings.data.mode} signedIn={settings.data.account?.signedIn ?? false} />
      )}
      <ProfilesCard />
    </div>
  );
}

function useSettingsChange<T>(change: (input: T) => Promise<Settings | unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSettled: () => queryClient.invalidateQueries(),
  });
}

function AccountCard({ settings }: { settings: Settings }) {
  const t = useTranslations("Desktop.settings.account");
  const { account } = settings;
  const [webUrl, setWebUrl] = useState(account?.webUrl ?? settings.defaultWebUrl ?? "");
  const signIn = useSettingsChange((url: string) => unwrap(window.chorus.signIn(url)));
  const cancel = useSettingsChange(() => unwrap(window.chorus.cancelSignIn()));
  const signOut = useSettingsChange(() => unwrap(window.chorus.signOut()));
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    signIn.mutate(webUrl.trim());
  };
  const waiting = signIn.isPending || settings.signInPending;

  return (
    <section className="card" aria-labelledby="account-heading">
      <h2 id="account-heading">{t("title")}</h2>
      {account?.signedIn ? (
        <>
          <p className="signed-in" data-testid="signed-in-badge">
            {account.email ? t("signedInAs", { email: account.email }) : t("signedIn")}
          </p>
          <p className="muted">{t("server", { url: account.syncUrl })}</p>
          <button type="button" onClick={() => signOut.mutate(undefined)}>
            {t("signOut")}
          </button>
          <p className="muted">{t("signOutHint")}</p>
        </>
      ) : (
        <form onSubmit={submit}>
          <p className="muted">{account ? t("signedOutAgain") : t("signedOut")}</p>
          <label>
            <span className="label">{t("webUrl")}</span>
            <input
              type="url"
              value={webUrl}
              placeholder="https://chorus.example"
              onChange={(event) => setWebUrl(event.target.value)}
            />
          </label>
          <button type="submit" disabled={waiting || webUrl.trim() === ""}>
            {t("signIn")}
          </button>
          {waiting && (
            <p aria-live="polite">
              {t("waiting")}{" "}
              <button type="button" onClick={() => cancel.mutate(undefined)}>
                {t("cancel")}
              </button>
            </p>
          )}
        </form>
      )}
      <Alerts errors={[signIn.error, signOut.error]} />
    </section>
  );
}

function ModeCard({ mode, signedIn }: { mode: SyncMode; signedIn: boolean }) {
  const t = useTranslations("Desktop.settings.mode");
  const change = useSettingsChange((next: SyncMode) => unwrap(window.chorus.setMode(next)));
  return (
    <section className="card" aria-labelledby="mode-heading">
      <h2 id="mode-heading">{t("title")}</h2>
      <fieldset disabled={change.isPending}>
        <legend className="muted">{t("legend")}</legend>
        {(["local", "hybrid", "server"] as const).map((option) => (
          <label key={option} className="choice">
            <input
              type="radio"
              name="mode"
              value={option}
              checked={mode === option}
              disabled={option === "server" && !signedIn}
              onChange={() => change.mutate(option)}
            />
            <span>
              <strong>{t(option)}</strong>
              <span className="muted"> — {t(`${option}Hint`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {change.isError && <p role="alert">{change.error.message}</p>}
    </section>
  );
}

function ProfilesCard() {
  const t = useTranslations("Desktop.settings.profiles");
  const [name, setName] = useState("");
  const profiles = useQuery({
    queryKey: queryKeys.profiles,
    queryFn: () => unwrap(window.chorus.listProfiles()),
  });
  const status = useQuery({
    queryKey: queryKeys.status,
    queryFn: () => unwrap(window.chorus.getStatus()),
  });
  const create = useSettingsChange((profile: string) =>
    unwrap(window.chorus.createProfile(profile)),
  );
  const switchTo = useSettingsChange((profile: string) =>
    unwrap(window.chorus.switchProfile(profile)),
  );

  return (
    <section className="card" aria-labelledby="profiles-heading">
      <h2 id="profiles-heading">{t("title")}</h2>
      <p className="muted">{t("hint")}</p>
      <ul className="list">
        {profiles.data?.map((profile) => (
          <li key={profile.name} className="row">
            <span className="grow">{profile.name}</span>
            {profile.name === status.data?.profile ? (
              <span className="muted">{t("current")}</span>
            ) : (
              <button type="button" onClick={() => switchTo.mutate(profile.name)}>
                {t("switch")}
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate(name.trim(), { onSuccess: () => setName("") });
        }}
      >
        <label>
          <span className="label">{t("newProfile")}</span>
          <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <button type="submit" disabled={create.isPending || name.trim() === ""}>
          {t("create")}
        </button>
      </form>
      <Alerts errors={[create.error, switchTo.error]} />
    </section>
  );
}
