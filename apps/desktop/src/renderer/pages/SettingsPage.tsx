import type { SyncMode } from "@chorus/desktop-sync/contract";
import { type Locale, localeNames, locales } from "@chorus/i18n";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { useTranslations } from "use-intl";
import type { Settings } from "../../shared/ipc-schemas.js";
import { Alerts } from "../Alerts.js";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "../bridge.js";
import { checkProfileName, type FieldProblem, useFieldProblemText } from "../errors.js";
import { type LocaleChoice, type ThemeChoice, usePreferences } from "../preferences.js";
import { SignInForm } from "../SignInForm.js";

export function SettingsPage() {
  const t = useTranslations("Desktop.settings");
  const settings = useQuery({
    queryKey: queryKeys.settings,
    queryFn: () => unwrap(window.chorus.getSettings()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  return (
    <div className="settings">
      <h1 tabIndex={-1}>{t("title")}</h1>
      <Alerts errors={[settings.error]} />
      {/* Keyed by profile: a switch shows the new profile's account, not the last one's. */}
      {settings.data && <AccountCard key={settings.data.profile} settings={settings.data} />}
      {settings.data && (
        <ModeCard
          key={`mode-${settings.data.profile}`}
          mode={settings.data.mode}
          signedIn={settings.data.account?.signedIn ?? false}
        />
      )}
      <ProfilesCard />
      <AppearanceCard />
    </div>
  );
}

function useSettingsChange<T, R>(change: (input: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSettled: () => queryClient.invalidateQueries(),
  });
}

function AccountCard({ settings }: { settings: Settings }) {
  const t = useTranslations("Desktop.settings.account");
  const { account } = settings;
  const signOut = useSettingsChange(() => unwrap(window.chorus.signOut()));

  return (
    <section className="card" aria-labelledby="account-heading" data-testid="account-card">
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
        <>
          <p className={account ? "warning" : "muted"}>
            {account ? t("signedOutAgain") : t("signedOut")}
          </p>
          <SignInForm settings={settings} />
        </>
      )}
      <Alerts errors={[signOut.error]} />
    </section>
  );
}

/**
 * The mode is a choice confirmed with Apply: arrow keys move between the radio buttons (as
 * they must) without switching the mode on every key press.
 */
function ModeCard({ mode, signedIn }: { mode: SyncMode; signedIn: boolean }) {
  const t = useTranslations("Desktop.settings.mode");
  const [choice, setChoice] = useState<SyncMode>(mode);
  const change = useSettingsChange((next: SyncMode) => unwrap(window.chorus.setMode(next)));
  useEffect(() => setChoice(mode), [mode]);
  return (
    <section className="card" aria-labelledby="mode-heading">
      <h2 id="mode-heading">{t("title")}</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          change.mutate(choice);
        }}
      >
        <fieldset disabled={change.isPending}>
          <legend className="muted">{t("legend")}</legend>
          {(["local", "hybrid", "server"] as const).map((option) => (
            <label key={option} className="choice">
              <input
                type="radio"
                name="mode"
                value={option}
                checked={choice === option}
                disabled={option === "server" && !signedIn}
                onChange={() => setChoice(option)}
              />
              <span>
                <strong>{t(option)}</strong>
                {option === mode && (
                  <>
                    {" "}
                    <span className="tag">{t("current")}</span>
                  </>
                )}
                <span className="muted"> — {t(`${option}Hint`)}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="row">
          <button
            type="submit"
            className="primary"
            disabled={choice === mode || change.isPending}
            data-testid="mode-apply"
          >
            {t("apply")}
          </button>
        </div>
      </form>
      <Alerts errors={[change.error]} />
    </section>
  );
}

function ProfilesCard() {
  const t = useTranslations("Desktop.settings.profiles");
  const problemText = useFieldProblemText();
  const inputId = useId();
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<FieldProblem | null>(null);
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
      <ul className="list" aria-labelledby="profiles-heading">
        {profiles.data?.map((profile) => (
          <li key={profile.name} className="row">
            <span className="grow">{profile.name}</span>
            {profile.name === status.data?.profile ? (
              <span className="muted">{t("current")}</span>
            ) : (
              <button
                type="button"
                aria-label={t("switchTo", { name: profile.name })}
                onClick={() => switchTo.mutate(profile.name)}
              >
                {t("switch")}
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        className="row"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found = checkProfileName(name);
          setProblem(found);
          if (found) return;
          const submitted = name.trim();
          setName("");
          create.mutate(submitted, {
            onError: () => setName((current) => (current === "" ? submitted : current)),
          });
        }}
      >
        <label htmlFor={inputId}>
          <span className="label">{t("newProfile")}</span>
        </label>
        <input
          id={inputId}
          value={name}
          onChange={(event) => setName(event.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={`${inputId}-hint${problem ? ` ${inputId}-error` : ""}`}
        />
        <button type="submit" className="primary" disabled={create.isPending}>
          {t("create")}
        </button>
      </form>
      <p id={`${inputId}-hint`} className="muted small">
        {t("nameHint")}
      </p>
      {problem && (
        <p id={`${inputId}-error`} className="error" data-testid="profile-name-error">
          {problemText(problem)}
        </p>
      )}
      <Alerts errors={[create.error, switchTo.error]} />
    </section>
  );
}

function AppearanceCard() {
  const t = useTranslations("Desktop.settings.appearance");
  const { locale, theme, setLocale, setTheme } = usePreferences();
  const id = useId();
  return (
    <section className="card" aria-labelledby="appearance-heading">
      <h2 id="appearance-heading">{t("title")}</h2>
      <div className="row">
        <label htmlFor={`${id}-language`}>
          <span className="label">{t("language")}</span>
        </label>
        <select
          id={`${id}-language`}
          value={locale}
          onChange={(event) => setLocale(event.target.value as LocaleChoice)}
        >
          <option value="system">{t("system")}</option>
          {locales.map((code: Locale) => (
            <option key={code} value={code} lang={code}>
              {localeNames[code]}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-theme`}>
          <span className="label">{t("theme")}</span>
        </label>
        <select
          id={`${id}-theme`}
          value={theme}
          onChange={(event) => setTheme(event.target.value as ThemeChoice)}
        >
          <option value="system">{t("system")}</option>
          <option value="light">{t("light")}</option>
          <option value="dark">{t("dark")}</option>
        </select>
      </div>
    </section>
  );
}
