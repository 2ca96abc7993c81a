"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef, useState } from "react";
import { useLiveConnection } from "@/components/SyncApiProvider";
import { useTRPC } from "@/lib/trpc";
import type { CompactionProgress } from "./types";

export type LiveStatus = "connecting" | "live" | "reconnecting" | "paused";

export interface ConsoleLive {
  status: LiveStatus;
  /** When the last "changed" event arrived (ms since the epoch). */
  lastChangeAt: number | null;
  /** The newest compaction progress event, while and after a run. */
  progress: CompactionProgress | null;
}

/** Re-subscribe delays after an error: 1 s doubling to 15 s. */
const retryDelay = (attempt: number) => Math.min(15_000, 1_000 * 2 ** attempt);

/**
 * The console's live feed (`admin.live` over the WebSocket). Each "changed" event invalidates
 * the admin queries; only the ones on screen refetch, so the page follows pushes, ACKs,
 * presence and compaction without a reload. Compaction progress is handed to the caller.
 * After an error the subscription starts over (with a fresh token after a 401); a 403 stops.
 */
export function useConsoleLive(): ConsoleLive {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const connection = useLiveConnection();
  const [lastChangeAt, setLastChangeAt] = useState<number | null>(null);
  const [progress, setProgress] = useState<CompactionProgress | null>(null);
  const failures = useRef(0);

  const subscription = useSubscription(
    trpc.admin.live.subscriptionOptions(undefined, {
      onData(event) {
        failures.current = 0;
        if (event.kind === "changed") {
          setLastChangeAt(Date.now());
          void queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() });
        } else {
          setProgress(event.progress);
        }
      },
    }),
  );

  const { status, error, reset } = subscription;
  const code = error?.data?.code;
  useEffect(() => {
    if (status !== "error" || code === "FORBIDDEN") return;
    let cancelled = false;
    const timer = setTimeout(
      async () => {
        if (code === "UNAUTHORIZED") await connection.renew();
        if (!cancelled) reset();
      },
      retryDelay(failures.current++),
    );
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [status, code, connection, reset]);

  let live: LiveStatus;
  if (status === "pending") live = "live";
  else if (status === "error") live = code === "FORBIDDEN" ? "paused" : "reconnecting";
  else if (status === "connecting" && error) live = "reconnecting";
  else live = "connecting";
  return { status: live, lastChangeAt, progress };
}
