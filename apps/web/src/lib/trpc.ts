import type { AppRouter } from "@chorus/api";
import { createTRPCContext } from "@trpc/tanstack-react-query";

/** Typed hooks for the sync server's tRPC API (the router type only: no server code ships). */
export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();
