import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { useTranslations } from "use-intl";
import type { Settings } from "../shared/ipc-schemas.js";
import { Alerts } from "./Alerts.js";
import { unwrap } from "./bridge.js";
import {
  checkName,
  checkWebUrl,
  DEVICE_NAME_MAX,
  type FieldProblem,
  useFieldProblemText,
} from "./errors.js";

/**
 * Browser sign-in (ADR 0002): the web address (prefilled with the default setup's) and the
 * name this computer gets on the account (prefilled with its host name), so the user's
 * devices can be told apart on the web.
 */
export function SignInForm({
  settings,
  onSignedIn,
}: {
  settings: Settings;
  onSignedIn?: () => void;
}) {
  const t = useTranslations("Desktop.settings.account");
  const problemText = useFieldProblemText();
  const queryClient = useQueryClient();
  const id = useId();
  const [webUrl, setWebUrl] = useState(settings.account?.webUrl ?? settings.defaultWebUrl ?? "");
  const [deviceName, setDeviceName] = useState(settings.defaultDeviceName);
  const [problems, setProblems] = useState<{ url?: FieldProblem; name?: FieldProblem }>({});
  const signIn = useMutation({
    mutationFn: (input: { webUrl: string; deviceName: string }) =>
      unwrap(
        window.chorus.signIn(
          input.deviceName
            ? { webUrl: input.webUrl, deviceName: input.deviceName }
            : { webUrl: input.webUrl },
        ),
      ),
    onSettled: () => queryClient.invalidateQueries(),
  });
  const cancel = useMutation({
    mutationFn: () => unwrap(window.chorus.cancelSignIn()),
    onSettled: () => queryClient.invalidateQueries(),
  });
  const waiting = signIn.isPending || settings.signInPending;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const url = checkWebUrl(webUrl) ?? undefined;
    const name = checkName(deviceName, DEVICE_NAME_MAX) ?? undefined;
    setProblems({ url, name });
    if (url || name) {
      document.getElementById(url ? `${id}-url` : `${id}-name`)?.focus();
      return;
    }
    signIn.mutate(
      { webUrl: webUrl.trim(), deviceName: deviceName.trim() },
      {
        onSuccess: (next) => {
          if (next.account?.signedIn) onSignedIn?.();
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate className="stack">
      <label htmlFor={`${id}-url`}>
        <span className="label">{t("webUrl")}</span>
      </label>
      <input
        id={`${id}-url`}
        type="url"
        value={webUrl}
        placeholder="https://chorus.example"
        aria-invalid={problems.url ? true : undefined}
        aria-describedby={problems.url ? `${id}-url-error` : undefined}
        onChange={(event) => setWebUrl(event.target.value)}
      />
      {problems.url && (
        <p id={`${id}-url-error`} className="error">
          {problemText(problems.url)}
        </p>
      )}
      <label htmlFor={`${id}-name`}>
        <span className="label">{t("deviceName")}</span>
      </label>
      <input
        id={`${id}-name`}
        value={deviceName}
        maxLength={DEVICE_NAME_MAX}
        aria-invalid={problems.name ? true : undefined}
        aria-describedby={`${id}-name-hint${problems.name ? ` ${id}-name-error` : ""}`}
        onChange={(event) => setDeviceName(event.target.value)}
      />
      <p id={`${id}-name-hint`} className="muted small">
        {t("deviceNameHint")}
      </p>
      {problems.name && (
        <p id={`${id}-name-error`} className="error">
          {problemText(problems.name)}
        </p>
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={waiting}>
          {t("signIn")}
        </button>
      </div>
      {waiting && (
        <p aria-live="polite">
          {t("waiting")}{" "}
          <button type="button" onClick={() => cancel.mutate()}>
            {t("cancel")}
          </button>
        </p>
      )}
      <Alerts errors={[signIn.isPending ? null : signIn.error]} />
    </form>
  );
}
