import type { Role } from "@chorus/db";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { env } from "@/env";
import { type AccountDeps, signIn } from "./accounts";
import { clientIpFromRecord } from "./client-ip";
import { prisma } from "./db";
import { logInternalError } from "./internal-error";
import { getSessionSecret } from "./signing-key";
import { authThrottle } from "./throttle";

declare module "next-auth" {
  interface Session {
    user: { id: string; email: string; name: string | null; role: Role };
  }
  interface User {
    role: Role;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    role?: Role;
    /** When the role was last read from the database (ms since the epoch). */
    roleCheckedAt?: number;
  }
}

/** How long a browser session lasts without signing in again. */
const SESSION_MAX_AGE_SECONDS = 14 * 24 * 60 * 60;
/** A promotion (promote-admin, ADMIN_EMAILS) reaches an open session within this long. */
const ROLE_REFRESH_MS = 60_000;

/**
 * Thrown from authorize(): next-auth hands the message to the sign-in form as `error`, which
 * turns it into a sentence in the reader's language.
 */
export function signInErrorCode(
  result: { error: "invalid_credentials" } | { error: "throttled"; retryAfterSeconds: number },
): string {
  return result.error === "throttled" ? `throttled:${result.retryAfterSeconds}` : result.error;
}

/**
 * The credentials provider's authorize(). What it throws reaches the browser as `error`, so an
 * internal failure (the database) is logged and thrown as `server_error:<request id>` only.
 */
export async function authorizeCredentials(
  deps: AccountDeps,
  credentials: Record<string, string> | undefined,
  headers: Record<string, unknown> | undefined,
): Promise<{ id: string; email: string; name: string | null; role: Role }> {
  let result: Awaited<ReturnType<typeof signIn>>;
  try {
    result = await signIn(
      deps,
      { email: credentials?.email ?? "", password: credentials?.password ?? "" },
      clientIpFromRecord(headers),
    );
  } catch (error) {
    throw new Error(`server_error:${logInternalError("sign-in", error)}`);
  }
  if (!result.ok) throw new Error(signInErrorCode(result));
  const { id, email, name, role } = result.user;
  return { id, email, name, role };
}

let options: Promise<NextAuthOptions> | undefined;

async function buildAuthOptions(): Promise<NextAuthOptions> {
  const settings = env();
  return {
    secret: await getSessionSecret(),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    // Unprefixed: the locale proxy sends the browser on to its language.
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers: [
      CredentialsProvider({
        id: "credentials",
        name: "Email and password",
        credentials: { email: { type: "email" }, password: { type: "password" } },
        authorize: (credentials, req) =>
          authorizeCredentials(
            { prisma: prisma(), throttle: authThrottle(), adminEmails: settings.ADMIN_EMAILS },
            credentials,
            req.headers,
          ),
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        // `user` is set only on sign-in; later calls keep what the token holds, re-reading
        // the role now and then.
        if (user) {
          token.sub = user.id;
          token.email = user.email ?? null;
          token.name = user.name ?? null;
          token.role = user.role;
          token.roleCheckedAt = Date.now();
        } else if (token.sub && Date.now() - (token.roleCheckedAt ?? 0) > ROLE_REFRESH_MS) {
          const current = await prisma().user.findUnique({
            where: { id: token.sub },
            select: { role: true },
          });
          if (current) token.role = current.role;
          token.roleCheckedAt = Date.now();
        }
        return token;
      },
      session({ session, token }) {
        session.user = {
          id: token.sub ?? "",
          email: token.email ?? "",
          name: token.name ?? null,
          role: token.role ?? "user",
        };
        return session;
      },
    },
  };
}

/** next-auth's options; async because the dev session secret comes from the key file. */
export function authOptions(): Promise<NextAuthOptions> {
  options ??= buildAuthOptions().catch((error: unknown) => {
    options = undefined;
    throw error;
  });
  return options;
}
