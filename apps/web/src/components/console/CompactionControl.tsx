"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useFormatter, useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { formatBytes } from "@/lib/format-duration";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";
import type { CompactionProgress, CompactionResult } from "./types";
import { WhatIfList } from "./WhatIfList";

/**
 * "Run compaction now" for one user (or everyone): the button, the run's progress as the
 * live feed reports it, and the outcome once the sync server answers.
 */
export function CompactionControl({
  userId,
  progress,
  label,
  testId,
}: {
  userId?: string;
  progress: CompactionProgress | null;
  label: string;
  testId: string;
}) {
  const t = useTranslations("Console");
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The run before ours: its progress events are not ours to show.
  const [before, setBefore] = useState<string | null>(null);
  // Compaction deletes operations for good: the button asks first.
  const [confirming, setConfirming] = useState(false);
  const run = useMutation(
    trpc.admin.runCompaction.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
    }),
  );
  const ours =
    progress &&
    (run.isPending ? progress.runId !== before : run.data && progress.runId === run.data.runId)
      ? progress
      : null;

  return (
    <div className={styles.compaction} data-testid={testId}>
      {confirming ? (
        <div className={styles.confirm}>
          <p id={`${testId}-confirm-text`}>
            {userId ? t("compaction.confirmUser") : t("compaction.confirmAll")}
          </p>
          <WhatIfList {...(userId ? { userId } : {})} />
          <div className={styles.confirmActions}>
            <button
              type="button"
              className="button button--ghost"
              onClick={() => setConfirming(false)}
            >
              {t("compaction.cancel")}
            </button>
            <button
              type="button"
              className="button button--primary"
              // biome-ignore lint/a11y/noAutofocus: the confirmation just opened on this choice
              autoFocus
              onClick={() => {
                setConfirming(false);
                setBefore(progress?.runId ?? null);
                run.mutate(userId ? { userId } : {});
              }}
              data-testid={`${testId}-confirm`}
            >
              {t("compaction.start")}
            </button>
          </div>
        </div>
      ) : (
        <button
          type="button"
          className="button button--primary"
          disabled={run.isPending}
          onClick={() => setConfirming(true)}
          data-testid={`${testId}-run`}
        >
          {run.isPending ? t("detail.running") : label}
        </button>
      )}
      {run.isPending || ours ? <ProgressBar progress={ours} /> : null}
      {run.isError ? (
        <p className="field__error" role="alert">
          {t("compaction.requestFailed")}
        </p>
      ) : null}
      {run.data ? <RunOutcome result={run.data} single={userId !== undefined} /> : null}
    </div>
  );
}

function ProgressBar({ progress }: { progress: CompactionProgress | null }) {
  const t = useTranslations("Console.compaction");
  const format = useFormatter();
  const done = progress?.usersDone ?? 0;
  const total = progress?.usersTotal ?? 0;
  const percent = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div
      className={styles.progress}
      data-testid="compaction-progress"
      data-run-id={progress?.runId ?? ""}
      data-users-done={done}
      data-users-total={total}
    >
      <div
        className={styles.progressTrack}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={total || undefined}
        aria-valuenow={progress ? done : undefined}
        data-indeterminate={!progress || undefined}
      >
        <span style={{ inlineSize: `${progress ? percent : 35}%` }} />
      </div>
      {progress ? (
        <p className={styles.progressText} aria-live="polite">
          {t("progress", {
            done: format.number(done),
            total: format.number(total),
            ops: progress.opsDeleted,
          })}
        </p>
      ) : null}
    </div>
  );
}

function RunOutcome({ result, single }: { result: CompactionResult; single: boolean }) {
  const t = useTranslations("Console.compaction");
  const format = useFormatter();
  const locale = useLocale();
  let text: string;
  let tone: "success" | "error" = "success";
  if (result.outcome === "skipped") {
    text = t("skipped");
    tone = "error";
  } else if (result.outcome === "failed") {
    text = t("failed", { error: result.error ?? "" });
    tone = "error";
  } else if (result.outcome === "succeeded") {
    const [user] = result.users;
    text =
      single && user
        ? t("resultUser", {
            before: format.number(user.watermarkBefore),
            after: format.number(user.watermarkAfter),
            ops: user.opsDeleted,
            bytes: formatBytes(user.bytesFreed, locale),
          })
        : t("resultAll", {
            users: result.users.length,
            ops: result.opsDeleted,
            bytes: formatBytes(result.bytesFreed, locale),
          });
  } else {
    return null;
  }
  return (
    <p
      className={`alert alert--${tone}`}
      role="status"
      data-testid="compaction-result"
      data-outcome={result.outcome}
      data-run-id={result.runId}
    >
      {text}
    </p>
  );
}
