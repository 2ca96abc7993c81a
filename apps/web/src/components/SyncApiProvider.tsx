"use client";

import type { AppRouter } from "@chorus/api";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  isTRPCClientError,
  retryLink,
  splitLink,
  wsLink,
} from "@trpc/client";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { createSyncTokenSource, SessionEndedError } from "@/lib/sync-token-source";
import { TRPCProvider } from "@/lib/trpc";

/** True when a failed call means "sign in again", not "try again". */
export function isSessionEnded(error: unknown): boolean {
  return (
    error instanceof SessionEndedError ||
    (isTRPCClientError(error) && error.cause instanceof SessionEndedError)
  );
}

/** The WebSocket side, for subscribers that must start over with a fresh token. */
export interface LiveConnection {
  /** Drops the cached token and closes the socket: the next subscription reconnects anew. */
  renew(): Promise<void>;
}

const LiveConnectionContext = createContext<LiveConnection | null>(null);

export function useLiveConnection(): LiveConnection {
  const connection = useContext(LiveConnectionContext);
  if (!connection) throw new Error("useLiveConnection needs a SyncApiProvider");
  return connection;
}

/** The sync server's WebSocket address for its HTTP base URL. */
export function syncSocketUrl(syncUrl: string): string {
  return `${syncUrl.replace(/\/$/, "").replace(/^http/, "ws")}/trpc`;
}

/**
 * Browser pages talk to the sync server directly (its CORS allows this origin) with a bearer
 * `kind=web` token from /api/sync-token. Queries and mutations go over HTTP, batched; on a
 * 401 the token is dropped and the call retried once. Subscriptions go over one WebSocket,
 * opened by the first subscription only (pages without one never open it); its token travels
 * in connectionParams, which is read again on every reconnect — the server closes a socket
 * when its token expires, and the reconnect brings a fresh one.
 */
export function SyncApiProvider({ syncUrl, children }: { syncUrl: string; children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            refetchInterval: 15_000,
            retry: (failures, error) => !isSessionEnded(error) && failures < 2,
          },
        },
      }),
  );
  const [api] = useState(() => {
    const tokens = createSyncTokenSource();
    const socket = createWSClient({
      url: syncSocketUrl(syncUrl),
      connectionParams: async () => ({ token: await tokens.get() }),
      lazy: { enabled: true, closeMs: 5_000 },
      keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 5_000 },
    });
    const trpcClient = createTRPCClient<AppRouter>({
      links: [
        retryLink({
          retry({ op, error, attempts }) {
            // A subscription's token belongs to its socket: useLiveConnection().renew() it.
            if (op.type === "subscription") return false;
            if (attempts > 1 || error.data?.code !== "UNAUTHORIZED") return false;
            tokens.invalidate();
            return true;
          },
        }),
        splitLink({
          condition: (op) => op.type === "subscription",
          true: wsLink({ client: socket }),
          false: httpBatchLink({
            url: `${syncUrl.replace(/\/$/, "")}/trpc`,
            async headers() {
              return { authorization: `Bearer ${await tokens.get()}` };
            },
          }),
        }),
      ],
    });
    const live: LiveConnection = {
      async renew() {
        tokens.invalidate();
        await socket.close();
      },
    };
    return { trpcClient, socket, live };
  });
  useEffect(() => {
    return () => {
      void api.socket.close();
    };
  }, [api]);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={api.trpcClient} queryClient={queryClient}>
        <LiveConnectionContext.Provider value={api.live}>{children}</LiveConnectionContext.Provider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
