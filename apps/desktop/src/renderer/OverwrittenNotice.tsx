import type { FieldVersion, OverwrittenValue } from "@chorus/desktop-sync/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useState } from "react";
import { useLocale, useTranslations } from "use-intl";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "./bridge.js";
import { useErrorText } from "./errors.js";
import { relativeTime } from "./sync-status.js";

/** A value as a person reads it: text as is, anything else as JSON. */
function shown(value: OverwrittenValue["lost"]["value"]): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The newest record of each field: an older one on the same field is history, not news. */
function newestPerField(records: readonly OverwrittenValue[]): OverwrittenValue[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (seen.has(record.field)) return false;
    seen.add(record.field);
    return true;
  });
}

/** Who wrote a value, as the notice says it. */
function useDeviceName() {
  const t = useTranslations("Desktop.overwritten");
  return (side: { here: boolean; deviceName: string | null }) =>
    side.here ? t("thisDevice") : (side.deviceName ?? t("otherDevice"));
}

/**
 * Restoring an older value: a new edit (the engine's normal write path, a new Lamport stamp)
 * that syncs to the other desktops. Says what it did, or why not, in `said`.
 */
function useRestore(onDone: (text: string) => void) {
  const t = useTranslations("Desktop.overwritten");
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { id: number; side: "lost" | "won" }) =>
      unwrap(window.chorus.restoreValue(input)),
    onSuccess: async (result) => {
      onDone(t(result.changed ? "restored" : "alreadyCurrent", { value: shown(result.value) }));
      await queryClient.invalidateQueries();
    },
    onError: (error) => onDone(errorText(error)),
  });
}

/** A field's recent values, newest first: the current one, and each it replaced or lost to. */
function FieldHistoryList({
  entity,
  entityId,
  field,
  onSaid,
}: {
  entity: string;
  entityId: string;
  field: string;
  onSaid: (text: string) => void;
}) {
  const t = useTranslations("Desktop.overwritten");
  const locale = useLocale();
  const device = useDeviceName();
  const restore = useRestore(onSaid);
  const history = useQuery({
    queryKey: [...queryKeys.overwrittenOf(entity, entityId), "history", field],
    queryFn: () => unwrap(window.chorus.fieldHistory({ entity, entityId, field })),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const versions: FieldVersion[] = history.data?.versions ?? [];
  return (
    <ol className="field-history" data-testid="field-history">
      {versions.map((version) => {
        const value = shown(version.value);
        const text = version.current
          ? t("historyCurrent", { value, device: device(version) })
          : version.replacedBy && version.replacedAt
            ? t("historyReplaced", {
                value,
                device: device(version),
                by: device(version.replacedBy),
                when: relativeTime(version.replacedAt, locale),
              })
            : t("historyOlder", { value, device: device(version) });
        const restorable = version.restore;
        return (
          <li
            key={`${version.deviceId}/${version.lamportTs}`}
            data-testid="field-version"
            data-current={version.current}
          >
            <span>{text}</span>
            {restorable && (
              <button
                type="button"
                disabled={restore.isPending}
                aria-label={t("restore", { value })}
                onClick={() => restore.mutate({ id: restorable.recordId, side: restorable.side })}
              >
                {t("restoreShort")}
              </button>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/**
 * On an item: "your change here was replaced by another desktop's" (or the reverse), with the
 * other value and the device it came from, until dismissed. The engine records the conflicts
 * (overwritten values of @chorus/desktop-sync); this re-reads them every second, so a notice
 * appears when the other device's write arrives. Dismissing moves the focus to `returnFocus`
 * (the element the notice sat above), never to the page's top.
 */
export function OverwrittenNotices({
  entity,
  entityId,
  returnFocus,
}: {
  entity: string;
  entityId: string;
  returnFocus: RefObject<HTMLElement | null>;
}) {
  const t = useTranslations("Desktop.overwritten");
  const locale = useLocale();
  const queryClient = useQueryClient();
  const records = useQuery({
    queryKey: queryKeys.overwrittenOf(entity, entityId),
    queryFn: () => unwrap(window.chorus.listOverwritten({ entity, entityId })),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const dismiss = useMutation({
    mutationFn: (ids: number[]) => unwrap(window.chorus.dismissOverwritten({ ids })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.overwritten });
      returnFocus.current?.focus();
    },
  });
  const [said, setSaid] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const restore = useRestore((text) => {
    setSaid(text);
    returnFocus.current?.focus();
  });
  const all = records.data ?? [];
  const notices = newestPerField(all);
  return (
    <div aria-live="polite" className="notices" data-testid="overwritten-notices">
      {notices.map((record) => {
        const mine = record.outcome === "lost" ? record.lost : record.won;
        const other = record.outcome === "lost" ? record.won : record.lost;
        const textId = `overwritten-${record.id}`;
        // Dismissing a field's notice dismisses its older records too.
        const ids = all.filter((r) => r.field === record.field).map((r) => r.id);
        return (
          <div
            key={record.id}
            className="notice"
            data-testid="overwritten-notice"
            data-outcome={record.outcome}
          >
            <p id={textId}>
              {t(record.outcome, {
                mine: shown(mine.value),
                theirs: shown(other.value),
                device: other.deviceName ?? t("otherDevice"),
                when: relativeTime(record.at, locale),
              })}
            </p>
            <div className="row">
              {record.outcome === "lost" && (
                <button
                  type="button"
                  aria-describedby={textId}
                  disabled={restore.isPending}
                  data-testid="overwritten-restore"
                  onClick={() => restore.mutate({ id: record.id, side: "lost" })}
                >
                  {t("restore", { value: shown(mine.value) })}
                </button>
              )}
              <button
                type="button"
                aria-expanded={open === record.field}
                data-testid="overwritten-history"
                onClick={() => setOpen(open === record.field ? null : record.field)}
              >
                {t("history")}
              </button>
              <button
                type="button"
                aria-describedby={textId}
                disabled={dismiss.isPending}
                onClick={() => dismiss.mutate(ids)}
              >
                {t("dismiss")}
              </button>
            </div>
            {open === record.field && (
              <FieldHistoryList
                entity={entity}
                entityId={entityId}
                field={record.field}
                onSaid={(text) => {
                  setSaid(text);
                  returnFocus.current?.focus();
                }}
              />
            )}
          </div>
        );
      })}
      {said && (
        <p className="muted" data-testid="overwritten-said">
          {said}
        </p>
      )}
    </div>
  );
}
