"use client";

import type { AppRouter } from "@chorus/api";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, isTRPCClientError, retryLink } from "@trpc/client";
import { type ReactNode, useState } from "react";
import { createSyncTokenSource, SessionEndedError } from "@/lib/sync-token-source";
import { TRPCProvider } from "@/lib/trpc";

/** True when a failed call means "sign in again", not "try again". */
export function isSessionEnded(error: unknown): boolean {
  return (
    error instanceof SessionEndedError ||
    (isTRPCClientError(error) && error.cause instanceof SessionEndedError)
  );
}

/**
 * Browser pages talk to the sync server directly (its CORS allows this origin) with a bearer
 * `kind=web` token from /api/sync-token; on a 401 the token is dropped and the call retried once.
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
  const [trpcClient] = useState(() => {
    const tokens = createSyncTokenSource();
    return createTRPCClient<AppRouter>({
      links: [
        retryLink({
          retry({ error, attempts }) {
            if (attempts > 1 || error.data?.code !== "UNAUTHORIZED") return false;
            tokens.invalidate();
            return true;
          },
        }),
        httpBatchLink({
          url: `${syncUrl.replace(/\/$/, "")}/trpc`,
          async headers() {
            return { authorization: `Bearer ${await tokens.get()}` };
          },
        }),
      ],
    });
  });
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
