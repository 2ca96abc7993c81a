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
      {settings.data?.account?.signedIn && <EncryptionCard key={`enc-${settings.data.profile}`} />}
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
  const change = useSettingsChange((next: SyncMode) =>
    unwrap(window.chorus.setMode({ mode: next })),
  );
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

/** One password field with its label (the browser never offers to remember it). */
function PasswordField({
  label,
  value,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  testId: string;
}) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>
        <span className="label">{label}</span>
      </label>
      <input
        id={id}
        type="password"
        autoComplete="new-password"
        value={value}
        data-testid={testId}
        onChange={(event) => onChange(event.target.value)}
      />
    </>
  );
}

/**
 * End-to-end encryption: set the password on the first computer (after saying it cannot be
 * recovered), enter it on the others, change it. Passwords go to the engine in the main
 * process and are never kept by the window.
 */
function EncryptionCard() {
  const t = useTranslations("Desktop.settings.encryption");
  const status = useQuery({
    queryKey: queryKeys.encryption,
    queryFn: () => unwrap(window.chorus.getEncryptionStatus()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [next, setNext] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const clear = () => {
    setPassword("");
    setConfirm("");
    setNext("");
    setMismatch(false);
  };
  const setUp = useSettingsChange((value: string) =>
    unwrap(window.chorus.setEncryptionPassword({ password: value })),
  );
  const unlock = useSettingsChange((value: string) =>
    unwrap(window.chorus.unlockEncryption({ password: value })),
  );
  const change = useSettingsChange((input: { password: string; newPassword: string }) =>
    unwrap(window.chorus.changeEncryptionPassword(input)),
  );
  const state = status.data;
  const busy = setUp.isPending || unlock.isPending || change.isPending;
  return (
    <section className="card" aria-labelledby="encryption-heading" data-testid="encryption-card">
      <h2 id="encryption-heading">{t("title")}</h2>
      {state?.account === "unknown" && <p className="muted">{t("unknown")}</p>}
      {state?.account === "off" && (
        <form
          noValidate
          className="stack"
          onSubmit={(event) => {
            event.preventDefault();
            if (password === "" || password !== confirm) {
              setMismatch(true);
              return;
            }
            setUp.mutate(password, { onSuccess: clear });
          }}
        >
          <p>{t("off")}</p>
          <p className="warning">{t("noRecovery")}</p>
          <fieldset disabled={busy} className="stack">
            <PasswordField
              label={t("password")}
              value={password}
              onChange={setPassword}
              testId="encryption-password"
            />
            <PasswordField
              label={t("repeat")}
              value={confirm}
              onChange={setConfirm}
              testId="encryption-repeat"
            />
          </fieldset>
          {mismatch && (
            <p role="alert" className="error">
              {t("mismatch")}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {t("set")}
          </button>
        </form>
      )}
      {state?.account === "on" && state.needsPassword && (
        <form
          noValidate
          className="stack"
          onSubmit={(event) => {
            event.preventDefault();
            if (password === "") return;
            unlock.mutate(password, { onSuccess: clear });
          }}
        >
          <p className="warning" data-testid="encryption-locked">
            {t("locked")}
          </p>
          <fieldset disabled={busy} className="stack">
            <PasswordField
              label={t("password")}
              value={password}
              onChange={setPassword}
              testId="encryption-password"
            />
          </fieldset>
          <button type="submit" className="primary" disabled={busy}>
            {t("unlock")}
          </button>
        </form>
      )}
      {state?.account === "on" && state.unlocked && (
        <form
          noValidate
          className="stack"
          onSubmit={(event) => {
            event.preventDefault();
            if (password === "" || next === "") return;
            change.mutate({ password, newPassword: next }, { onSuccess: clear });
          }}
        >
          <p className="signed-in" data-testid="encryption-on">
            {t("on")}
          </p>
          <fieldset disabled={busy} className="stack">
            <PasswordField
              label={t("current")}
              value={password}
              onChange={setPassword}
              testId="encryption-current"
            />
            <PasswordField
              label={t("new")}
              value={next}
              onChange={setNext}
              testId="encryption-new"
            />
          </fieldset>
          <button type="submit" disabled={busy}>
            {t("change")}
          </button>
          {change.isSuccess && <p role="status">{t("changed")}</p>}
        </form>
      )}
      {state?.account === "on" && <ResetEncryption />}
      {state && state.unreadableCount > 0 && (
        <p className="warning">{t("refused", { count: state.unreadableCount })}</p>
      )}
      <Alerts errors={[status.error, setUp.error, unlock.error, change.error]} />
    </section>
  );
}

/**
 * A lost encryption password: a new key from this computer's library, under a new password.
 * What it costs is said first, and the button stays disabled until the user says they
 * understood it; the password is asked twice.
 */
function ResetEncryption() {
  const t = useTranslations("Desktop.settings.encryption");
  const [understood, setUnderstood] = useState(false);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const confirmId = useId();
  const reset = useSettingsChange((value: string) =>
    unwrap(window.chorus.resetEncryption({ password: value })),
  );
  return (
    <details className="stack" data-testid="encryption-reset">
      <summary>{t("resetTitle")}</summary>
      <form
        noValidate
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          if (!understood) return;
          if (password === "" || password !== confirm) {
            setMismatch(true);
            return;
          }
          setMismatch(false);
          reset.mutate(password, {
            onSuccess: () => {
              setPassword("");
              setConfirm("");
              setUnderstood(false);
            },
          });
        }}
      >
        <p className="warning">{t("resetExplain")}</p>
        <div className="check">
          <input
            id={confirmId}
            type="checkbox"
            checked={understood}
            onChange={(event) => setUnderstood(event.target.checked)}
          />
          <label htmlFor={confirmId}>{t("resetConfirm")}</label>
        </div>
        <fieldset disabled={reset.isPending || !understood} className="stack">
          <PasswordField
            label={t("newPassword")}
            value={password}
            onChange={setPassword}
            testId="encryption-reset-password"
          />
          <PasswordField
            label={t("repeat")}
            value={confirm}
            onChange={setConfirm}
            testId="encryption-reset-repeat"
          />
        </fieldset>
        {mismatch && (
          <p role="alert" className="error">
            {t("mismatch")}
          </p>
        )}
        <button type="submit" className="danger" disabled={reset.isPending || !understood}>
          {t("reset")}
        </button>
        {reset.isSuccess && <p role="status">{t("resetDone")}</p>}
        <Alerts errors={[reset.error]} />
      </form>
    </details>
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
    unwrap(window.chorus.createProfile({ name: profile })),
  );
  const switchTo = useSettingsChange((profile: string) =>
    unwrap(window.chorus.switchProfile({ name: profile })),
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
