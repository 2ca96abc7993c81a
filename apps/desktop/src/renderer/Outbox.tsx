import type { Diagnostics } from "@chorus/desktop-sync/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useLocale, useTranslations } from "use-intl";
import { unwrap } from "./bridge.js";
import { useErrorText } from "./errors.js";
import { relativeTime } from "./sync-status.js";

const ENTITIES = new Set(["playlist", "track", "playlist_entry"]);
const FIELDS = new Set(["name", "title", "artist", "album", "position"]);

type Change = { entity: string; field: string | null; op: string };

/**
 * A queued or refused change as a person says it: "Playlist: name changed", "Track created";
 * an entity or field the music library does not name (another app's) keeps its own name.
 */
export function useChangeText() {
  const t = useTranslations("Desktop.diagnostics.change");
  return (op: Change) => {
    const entity = ENTITIES.has(op.entity) ? t(`entity.${op.entity}`) : op.entity;
    if (op.op === "insert") return t("insert", { entity });
    if (op.op === "delete") return t("delete", { entity });
    if (op.field === null) return t("other", { entity });
    const field = FIELDS.has(op.field) ? t(`field.${op.field}`) : op.field;
    return t("set", { entity, field });
  };
}

/**
 * The outbox: each change still waiting (what, how old, why it waits) and each one the server
 * refused (with its reason), with Retry for a refused one and Discard for either. Discard asks
 * first, saying what is lost: the change never reaches the server and this computer shows the
 * server's value again (the engine rebuilds the item from the server's state).
 */
export function Outbox({ diagnostics: d }: { diagnostics: Diagnostics }) {
  const t = useTranslations("Desktop.diagnostics");
  const o = useTranslations("Desktop.diagnostics.outbox");
  const locale = useLocale();
  const describe = useChangeText();
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<{ operationId: string; change: string } | null>(
    null,
  );
  const [said, setSaid] = useState("");
  const confirmYes = useRef<HTMLButtonElement>(null);
  const saidRef = useRef<HTMLParagraphElement>(null);
  const refresh = () => queryClient.invalidateQueries();

  useEffect(() => {
    if (confirming) confirmYes.current?.focus();
  }, [confirming]);

  const retry = useMutation({
    mutationFn: (input: { operationId: string; change: string }) =>
      unwrap(window.chorus.retryOp({ operationId: input.operationId })),
    onSuccess: async (result, input) => {
      setSaid(o(result.outcome, { change: input.change }));
      await refresh();
    },
    onError: (error) => setSaid(errorText(error)),
  });
  const discard = useMutation({
    mutationFn: (input: { operationId: string; change: string }) =>
      unwrap(window.chorus.discardOp({ operationId: input.operationId })),
    onSuccess: async (result, input) => {
      setConfirming(null);
      setSaid(
        !result.discarded
          ? o("reachedServer", { change: input.change })
          : result.reverted
            ? o("discarded", { change: input.change })
            : o("discardedUnseen", { change: input.change }),
      );
      await refresh();
      // The item and its buttons are gone: the focus goes to what was said about it.
      saidRef.current?.focus();
    },
    onError: (error) => setSaid(errorText(error)),
  });
  const busy = retry.isPending || discard.isPending;

  const actions = (operationId: string, change: string, refused: boolean) => (
    <span className="outbox-actions">
      {refused && (
        <button
          type="button"
          disabled={busy}
          aria-label={o("retryLabel", { change })}
          data-testid="outbox-retry"
          onClick={() => retry.mutate({ operationId, change })}
        >
          {o("retry")}
        </button>
      )}
      <button
        type="button"
        disabled={busy}
        aria-label={o("discardLabel", { change })}
        data-testid="outbox-discard"
        onClick={() => setConfirming({ operationId, change })}
      >
        {o("discard")}
      </button>
    </span>
  );

  const confirmation = (operationId: string) =>
    confirming?.operationId === operationId && (
      <div className="confirm">
        <p id={`confirm-${operationId}`} data-testid="outbox-discard-confirm">
          {o("confirm", { change: confirming.change })}
        </p>
        <div className="row">
          <button
            ref={confirmYes}
            type="button"
            className="danger"
            aria-describedby={`confirm-${operationId}`}
            disabled={busy}
            data-testid="outbox-discard-yes"
            onClick={() => discard.mutate(confirming)}
          >
            {o("confirmYes")}
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(null)}>
            {o("confirmNo")}
          </button>
        </div>
      </div>
    );

  return (
    <>
      {d.pending.length > 0 && <p className="outbox-heading">{t("pending")}</p>}
      {d.pending.length > 0 && (
        <ul className="pending-list" data-testid="pending-list">
          {d.pending.map((op) => {
            const change = describe(op);
            return (
              <li key={op.operationId} data-testid="outbox-pending" data-op={op.operationId}>
                {change} · <span className="muted">{relativeTime(op.madeAt, locale)}</span> ·{" "}
                {op.attempts > 0
                  ? t("attempts", { count: op.attempts, error: op.lastError ?? t("none") })
                  : o("notTried")}{" "}
                {actions(op.operationId, change, false)}
                {confirmation(op.operationId)}
              </li>
            );
          })}
          {d.pendingCount > d.pending.length && (
            <li className="muted">
              {t("moreWaiting", { count: d.pendingCount - d.pending.length })}
            </li>
          )}
        </ul>
      )}
      {d.quarantined.length > 0 && (
        <>
          <p className="outbox-heading">{t("quarantined")}</p>
          <ul className="pending-list" data-testid="quarantined-list">
            {d.quarantined.map((q) => {
              const change = describe(q);
              return (
                <li key={q.operationId} data-testid="outbox-refused" data-op={q.operationId}>
                  {change} · {t("refusedBecause", { reason: q.reason })}{" "}
                  <span className="muted">({relativeTime(q.at, locale)})</span>{" "}
                  {actions(q.operationId, change, true)}
                  {confirmation(q.operationId)}
                </li>
              );
            })}
          </ul>
        </>
      )}
      <p ref={saidRef} tabIndex={-1} aria-live="polite" data-testid="outbox-said">
        {said}
      </p>
    </>
  );
}
