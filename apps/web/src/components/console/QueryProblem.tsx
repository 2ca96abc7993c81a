"use client";

import { useTranslations } from "next-intl";
import { isSessionEnded } from "@/components/SyncApiProvider";
import styles from "./console.module.css";

/** Loading and failure states shared by the console's panels. */
export function QueryProblem({
  error,
  onRetry,
  signInHref,
}: {
  error: unknown;
  onRetry: () => void;
  signInHref: string;
}) {
  const t = useTranslations("Console.common");
  if (isSessionEnded(error)) {
    return (
      <div className="alert alert--error" role="alert" data-testid="console-session-ended">
        <p>
          {t("sessionEnded")} <a href={signInHref}>{t("signInAgain")}</a>
        </p>
      </div>
    );
  }
  return (
    <div
      className={`alert alert--error ${styles.problem}`}
      role="alert"
      data-testid="console-error"
    >
      <p>{t("error")}</p>
      <button type="button" className="button button--small" onClick={onRetry}>
        {t("retry")}
      </button>
    </div>
  );
}

export function Loading() {
  const t = useTranslations("Console.common");
  return (
    <p className={styles.state} aria-live="polite">
      {t("loading")}
    </p>
  );
}
