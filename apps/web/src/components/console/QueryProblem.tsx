"use client";

import type { UseQueryResult } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import type { ReactNode } from "react";
import { isSessionEnded } from "@/components/SyncApiProvider";
import styles from "./console.module.css";

/** A failed query: "session ended, sign in again", or "could not load" with a retry. */
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

/**
 * The states of one query, the same in every panel: loading, failed (with retry or "sign in
 * again"), empty (when `empty` is given and `isEmpty` says so), else `children(data)`.
 */
export function QueryState<T, E = unknown>({
  query,
  signInHref,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T, E>;
  signInHref: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}): ReactNode {
  if (query.isPending) return <Loading />;
  if (query.isError) {
    return (
      <QueryProblem error={query.error} onRetry={() => query.refetch()} signInHref={signInHref} />
    );
  }
  if (isEmpty?.(query.data)) return empty;
  return children(query.data);
}
