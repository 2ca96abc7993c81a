import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { useTranslations } from "use-intl";

/*
 * Deleting is undoable: the item disappears at once, a toast says what went (and what it
 * takes with it) with an Undo button, and the deletion reaches the engine only when the toast
 * closes (after UNDO_WINDOW_MS, on Dismiss, or when the window goes away). Until then nothing
 * has left this computer, so Undo needs no compensating edit on the other devices.
 *
 * The window does not run out under the user's hand: while a toast holds the keyboard focus
 * (where deleting puts it) or the pointer, its timer is paused, and it starts again, whole,
 * when they leave (WCAG 2.2.1, timing adjustable).
 */
export const UNDO_WINDOW_MS = 8_000;

interface PendingDeletion {
  key: string;
  /** The ids hidden from the lists while the toast is up. */
  hides: string[];
  message: string;
  commit(): Promise<unknown>;
  onUndo?: () => void;
}

interface UndoApi {
  hidden: ReadonlySet<string>;
  remove(deletion: PendingDeletion): void;
}

const UndoContext = createContext<UndoApi | null>(null);

export function useUndo(): UndoApi {
  const api = useContext(UndoContext);
  if (!api) throw new Error("useUndo outside UndoProvider");
  return api;
}

export function UndoProvider({
  children,
  onCommitted,
  afterClose,
}: {
  children: ReactNode;
  /** After a deletion reached the engine (refresh the views). */
  onCommitted(): void;
  /** Where focus goes when a toast that held it closes. */
  afterClose(): void;
}) {
  const t = useTranslations("Desktop.undo");
  const [pending, setPending] = useState<PendingDeletion[]>([]);
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const live = useRef(pending);
  live.current = pending;

  const close = useCallback(
    (key: string, commit: boolean) => {
      const deletion = live.current.find((d) => d.key === key);
      if (!deletion) return;
      clearTimeout(timers.current.get(key));
      timers.current.delete(key);
      const toast = document.getElementById(`toast-${key}`);
      const hadFocus = toast?.contains(document.activeElement) ?? false;
      setPending((all) => all.filter((d) => d.key !== key));
      if (commit) void deletion.commit().finally(onCommitted);
      else deletion.onUndo?.();
      if (hadFocus && commit) afterClose();
    },
    [onCommitted, afterClose],
  );

  const arm = useCallback(
    (key: string) => {
      clearTimeout(timers.current.get(key));
      timers.current.set(
        key,
        setTimeout(() => close(key, true), UNDO_WINDOW_MS),
      );
    },
    [close],
  );
  const pause = useCallback((key: string) => {
    clearTimeout(timers.current.get(key));
    timers.current.delete(key);
  }, []);

  // Anything still waiting when the window goes away is deleted, as the user asked.
  useEffect(() => {
    const flush = () => {
      for (const deletion of live.current) void deletion.commit();
    };
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, []);

  const api = useMemo<UndoApi>(
    () => ({
      hidden: new Set(pending.flatMap((d) => d.hides)),
      remove: (deletion) => {
        setPending((all) => [...all, deletion]);
        arm(deletion.key);
        // Focus goes to Undo: the deleted item's button is gone, and Undo is the next thing a
        // keyboard user may want.
        requestAnimationFrame(() =>
          document.querySelector<HTMLButtonElement>(`#toast-${deletion.key} .undo`)?.focus(),
        );
      },
    }),
    [pending, arm],
  );

  return (
    <UndoContext.Provider value={api}>
      {children}
      <section className="toasts" aria-label={t("region")}>
        {pending.map((deletion) => (
          <div
            key={deletion.key}
            id={`toast-${deletion.key}`}
            className="toast"
            role="status"
            onFocus={() => pause(deletion.key)}
            onBlur={(event) => {
              if (!event.currentTarget.contains(event.relatedTarget)) arm(deletion.key);
            }}
            onMouseEnter={() => pause(deletion.key)}
            onMouseLeave={(event) => {
              if (!event.currentTarget.contains(document.activeElement)) arm(deletion.key);
            }}
          >
            <span className="grow">{deletion.message}</span>
            <button
              type="button"
              className="undo"
              data-testid="undo"
              onClick={() => close(deletion.key, false)}
            >
              {t("undo")}
            </button>
            <button type="button" onClick={() => close(deletion.key, true)}>
              {t("dismiss")}
            </button>
          </div>
        ))}
      </section>
    </UndoContext.Provider>
  );
}
