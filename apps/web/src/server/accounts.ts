import type { PrismaClient, Role } from "@chorus/db";
import {
  type FieldErrors,
  fieldErrorsOf,
  type SignInInput as SignInFields,
  SignInInput,
  type SignUpInput as SignUpFields,
  SignUpInput,
} from "@/lib/account-schema";
import { isWeakPassword } from "./password-strength";
import { decoyPasswordHash, hashPassword, verifyPassword } from "./passwords";
import type { AuthThrottle } from "./throttle";

export interface AccountDeps {
  prisma: PrismaClient;
  throttle: AuthThrottle;
  /** Lower-cased emails that are admins (ADMIN_EMAILS). */
  adminEmails: readonly string[];
  /** The language of the page the request came from (saved with the account). */
  locale?: string;
  /** Mails the new account its confirmation link (sign-up only; errors are the sender's). */
  sendVerification?(user: AccountUser): Promise<unknown>;
  /** Tells the owner of an address that already has an account that someone tried to sign up. */
  sendAlreadyRegistered?(owner: {
    id: string;
    email: string;
    locale: string | null;
  }): Promise<unknown>;
}

export interface AccountUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  /** Web sessions begun under an older version have ended. */
  sessionVersion: number;
}

/**
 * `user` is the new account, or null when the address already had one (its owner was mailed).
 * Callers must not let the caller of sign-up tell the two apart (docs/adr/0005).
 */
export type SignUpResult =
  | { ok: true; user: AccountUser | null }
  | { ok: false; error: "invalid"; fieldErrors: FieldErrors }
  | { ok: false; error: "throttled"; retryAfterSeconds: number };

/** What the browser may learn from a sign-up: never whether the address already had an account. */
export type SignUpAnswer =
  | { ok: true }
  | { ok: false; error: "invalid"; fieldErrors: FieldErrors }
  | { ok: false; error: "throttled"; retryAfterSeconds: number };

export function signUpAnswer(result: SignUpResult): SignUpAnswer {
  return result.ok ? { ok: true } : result;
}

export type SignInResult =
  | { ok: true; user: AccountUser }
  | { ok: false; error: "invalid_credentials" }
  | { ok: false; error: "throttled"; retryAfterSeconds: number };

const userFields = {
  id: true,
  email: true,
  name: true,
  role: true,
  sessionVersion: true,
} as const;

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "P2002";
}

export function roleFor(email: string, adminEmails: readonly string[]): Role {
  return adminEmails.includes(email.toLowerCase()) ? "admin" : "user";
}

/**
 * Creates an account with an argon2id password hash. An address that already has an account
 * gets the same answer after the same work (an argon2 run), and its owner gets a mail instead.
 */
export async function signUp(
  deps: AccountDeps,
  fields: SignUpFields,
  ip: string,
): Promise<SignUpResult> {
  const throttled = await deps.throttle.signUpAttempt(ip);
  if (throttled) return { ok: false, error: "throttled", ...throttled };
  const parsed = SignUpInput.safeParse(fields);
  if (!parsed.success) {
    return { ok: false, error: "invalid", fieldErrors: fieldErrorsOf(parsed.error) };
  }
  const { email, password, name } = parsed.data;
  if (isWeakPassword(password, [email, name ?? ""])) {
    return { ok: false, error: "invalid", fieldErrors: { password: "password_weak" } };
  }
  // The hash is computed either way, so an existing address takes as long as a new one.
  const passwordHash = await hashPassword(password);
  const existing = await findOwner(deps.prisma, email);
  if (existing) return alreadyRegistered(deps, existing);
  try {
    const user = await deps.prisma.user.create({
      data: {
        email,
        name: name ?? null,
        passwordHash,
        role: roleFor(email, deps.adminEmails),
        ...(deps.locale ? { locale: deps.locale } : {}),
      },
      select: userFields,
    });
    await deps.sendVerification?.(user);
    return { ok: true, user };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Someone created the account between the look-up and the insert.
    const owner = await findOwner(deps.prisma, email);
    if (!owner) throw error;
    return alreadyRegistered(deps, owner);
  }
}

type Owner = { id: string; email: string; locale: string | null };

function findOwner(prisma: PrismaClient, email: string): Promise<Owner | null> {
  return prisma.user.findUnique({
    where: { email },
    select: { id: true, email: true, locale: true },
  });
}

async function alreadyRegistered(deps: AccountDeps, owner: Owner): Promise<SignUpResult> {
  await deps.sendAlreadyRegistered?.(owner);
  return { ok: true, user: null };
}

/**
 * Checks an email and password. Unknown emails and wrong passwords answer alike and take as
 * long; failures count per email and per address, and over budget no password is checked.
 */
export async function signIn(
  deps: AccountDeps,
  fields: SignInFields,
  ip: string,
): Promise<SignInResult> {
  const parsed = SignInInput.safeParse(fields);
  if (!parsed.success) return { ok: false, error: "invalid_credentials" };
  const { email, password } = parsed.data;
  const throttled = await deps.throttle.signInBlocked(email, ip);
  if (throttled) return { ok: false, error: "throttled", ...throttled };

  const user = await deps.prisma.user.findUnique({
    where: { email },
    select: { ...userFields, passwordHash: true },
  });
  const matches = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), password);
  if (!user || !matches) {
    await deps.throttle.signInFailed(email, ip);
    return { ok: false, error: "invalid_credentials" };
  }
  await deps.throttle.signInSucceeded(email);
  const { passwordHash: _hash, ...account } = user;
  if (account.role !== "admin" && roleFor(email, deps.adminEmails) === "admin") {
    await deps.prisma.user.update({ where: { id: account.id }, data: { role: "admin" } });
    return { ok: true, user: { ...account, role: "admin" } };
  }
  return { ok: true, user: account };
}

/** Makes an existing account an admin; false when no account has that email. */
export async function promoteToAdmin(prisma: PrismaClient, email: string): Promise<boolean> {
  const { count } = await prisma.user.updateMany({
    where: { email: email.trim().toLowerCase() },
    data: { role: "admin" },
  });
  return count > 0;
}
