import type { NextRequest } from "next/server";
import createMiddleware from "next-intl/middleware";
import { routing } from "./i18n/routing";

const handleI18nRouting = createMiddleware(routing);

/** Next 16 proxy (formerly middleware): negotiates the locale and redirects "/" to "/{locale}". */
export function proxy(request: NextRequest) {
  return handleI18nRouting(request);
}

export const config = {
  // Everything except API routes, Next internals and files with an extension (favicon.ico, …).
  matcher: "/((?!api|trpc|_next|_vercel|.*\\..*).*)",
};
