import {
  DESKTOP_CODE_TTL_SECONDS,
  generateDesktopCode,
  hashDesktopCode,
  isCodeChallenge,
  isLoopbackRedirectUri,
  PKCE_METHOD,
} from "@chorus/auth";
import type { PrismaClient } from "@chorus/db";
import { z } from "zod";

/*
 * GET /desktop-login (ADR 0002 §1-2): the request the desktop engine opens in the browser, and
 * what approving or declining it sends back to the engine's loopback listener.
 */

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** One code per problem, so the error page can say in the reader's language what is wrong. */
export type DesktopLoginProblem =
  | "redirect_uri"
  | "state"
  | "code_challenge"
  | "code_challenge_method"
  | "device_name"
  | "platform"
  | "app_version";

export const DesktopLoginRequest = z.object({
  redirect_uri: z.string().refine(isLoopbackRedirectUri),
  // ADR: at least 32 random base64url characters.
  state: z.string().regex(/^[A-Za-z0-9_-]{32,512}$/),
  code_challenge: z.string().refine(isCodeChallenge),
  code_challenge_method: z.literal(PKCE_METHOD),
  device_name: z
    .string()
    .trim()
    .min(1)
    .max(80)
    // No control characters: the name is shown on the consent screen and in /account.
    .refine((name) => !/\p{Cc}/u.test(name)),
  platform: z.string().regex(/^[a-z0-9_-]{1,32}$/),
  app_version: z.string().max(64).regex(SEMVER),
});
export type DesktopLoginRequest = z.infer<typeof DesktopLoginRequest>;

const FIELDS = DesktopLoginRequest.keyof().options;

type SearchParams = Record<string, string | string[] | undefined>;

export type ParsedDesktopLogin =
  | { ok: true; request: DesktopLoginRequest }
  | { ok: false; problems: DesktopLoginProblem[] };

/** Validates the query of /desktop-login. A parameter given twice is as wrong as a missing one. */
export function parseDesktopLoginRequest(params: SearchParams): ParsedDesktopLogin {
  const single = Object.fromEntries(
    FIELDS.map((field) => {
      const value = params[field];
      return [field, typeof value === "string" ? value : undefined];
    }),
  );
  const parsed = DesktopLoginRequest.safeParse(single);
  if (parsed.success) return { ok: true, request: parsed.data };
  const problems = new Set<DesktopLoginProblem>();
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    if (typeof field === "string" && (FIELDS as readonly string[]).includes(field)) {
      problems.add(field as DesktopLoginProblem);
    }
  }
  return { ok: false, problems: FIELDS.filter((field) => problems.has(field)) };
}

/** The query string of a request, to come back to /desktop-login after signing in. */
export function desktopLoginQuery(request: DesktopLoginRequest): string {
  return new URLSearchParams(request).toString();
}

function loopbackUrl(request: DesktopLoginRequest, params: Record<string, string>): string {
  // isLoopbackRedirectUri refuses any query, so appending one is safe.
  return `${request.redirect_uri}?${new URLSearchParams({ ...params, state: request.state })}`;
}

/** Where a declined request sends the browser: the engine learns the user said no. */
export function declinedRedirect(request: DesktopLoginRequest): string {
  return loopbackUrl(request, { error: "access_denied" });
}

/**
 * Approval: a one-time code (stored hashed, bound to the redirect_uri and the PKCE challenge,
 * alive DESKTOP_CODE_TTL_SECONDS) and the loopback URL that hands it to the engine. The device
 * row is created when the code is exchanged (desktop-auth.ts), from what the code carries.
 */
export async function approveDesktopLogin(
  prisma: PrismaClient,
  userId: string,
  request: DesktopLoginRequest,
  now: Date = new Date(),
): Promise<{ redirectTo: string; expiresAt: Date }> {
  const code = generateDesktopCode();
  const expiresAt = new Date(now.getTime() + DESKTOP_CODE_TTL_SECONDS * 1000);
  await prisma.desktopAuthCode.create({
    data: {
      codeHash: hashDesktopCode(code),
      userId,
      deviceName: request.device_name,
      platform: request.platform,
      appVersion: request.app_version,
      redirectUri: request.redirect_uri,
      codeChallenge: request.code_challenge,
      expiresAt,
      createdAt: now,
    },
  });
  return { redirectTo: loopbackUrl(request, { code }), expiresAt };
}
