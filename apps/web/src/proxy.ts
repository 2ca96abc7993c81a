import { isLocale } from "@chorus/i18n";
import { type NextRequest, NextResponse } from "next/server";
import createMiddleware from "next-intl/middleware";
import { routing } from "./i18n/routing";
import { parseDesktopLoginRequest } from "./server/desktop-login";

const handleI18nRouting = createMiddleware(routing);

/**
 * Next 16 proxy (formerly middleware): negotiates the locale and redirects "/" to "/{locale}".
 * A /{locale}/desktop-login request that cannot be honoured still renders the page's localized
 * error, but with HTTP 400: a page cannot choose its status, the proxy can (the status it sets
 * is the status of the response the page then renders into).
 */
export function proxy(request: NextRequest) {
  const response = handleI18nRouting(request);
  if (response.headers.has("location") || !isInvalidDesktopLogin(request)) return response;
  return new NextResponse(null, { status: 400, headers: response.headers });
}

function isInvalidDesktopLogin(request: NextRequest): boolean {
  const [, locale, page, ...rest] = request.nextUrl.pathname.split("/");
  if (!locale || !isLocale(locale) || page !== "desktop-login" || rest.some(Boolean)) return false;
  const params: Record<string, string | string[]> = {};
  for (const key of new Set(request.nextUrl.searchParams.keys())) {
    const values = request.nextUrl.searchParams.getAll(key);
    params[key] = values.length === 1 ? (values[0] ?? "") : values;
  }
  return !parseDesktopLoginRequest(params).ok;
}

export const config = {
  // Everything except API routes, Next internals and files with an extension (favicon.ico, …).
  matcher: "/((?!api|trpc|_next|_vercel|.*\\..*).*)",
};
