import { z } from "zod";

/*
 * The sign-up and sign-in forms, shared by the browser (inline validation) and the server
 * (the check that counts). Messages are error codes; the forms translate them.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
export const NAME_MAX_LENGTH = 80;

export const Email = z
  .string({ error: "email_required" })
  .trim()
  .min(1, "email_required")
  .max(254, "email_invalid")
  .pipe(z.email("email_invalid"))
  .transform((email) => email.toLowerCase());

export const NewPassword = z
  .string({ error: "password_required" })
  .min(1, "password_required")
  .min(PASSWORD_MIN_LENGTH, "password_too_short")
  .max(PASSWORD_MAX_LENGTH, "password_too_long");

export const SignUpInput = z.object({
  email: Email,
  password: NewPassword,
  name: z
    .string()
    .trim()
    .max(NAME_MAX_LENGTH, "name_too_long")
    .optional()
    .transform((name) => (name ? name : undefined)),
});
export type SignUpInput = z.input<typeof SignUpInput>;

export const SignInInput = z.object({
  email: Email,
  password: z.string({ error: "password_required" }).min(1, "password_required"),
});
export type SignInInput = z.input<typeof SignInInput>;

export type FieldErrorCode =
  | "email_required"
  | "email_invalid"
  | "password_required"
  | "password_too_short"
  | "password_too_long"
  /** Long enough, but easy to guess (the server's strength estimate). */
  | "password_weak"
  | "name_too_long"
  /** The account's current password was not the one typed (account page forms). */
  | "wrong_password";

export type FieldErrors = Partial<Record<"email" | "password" | "name", FieldErrorCode>>;

/** The first problem of each field, as codes the forms translate. */
export function fieldErrorsOf(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = issue.path[0];
    if ((field === "email" || field === "password" || field === "name") && !errors[field]) {
      errors[field] = issue.message as FieldErrorCode;
    }
  }
  return errors;
}

/** An origin of our own to resolve callbacks against: what matters is whether one stays on it. */
const CALLBACK_BASE = new URL("https://callback.chorus.invalid");

/**
 * Where a form may send the browser after signing in: a place on this site only. The value is
 * resolved with the WHATWG URL parser, as the browser will resolve it (which drops tabs and
 * newlines, reads "\\" as "/", and so turns "/\t/evil.com" into "//evil.com"), and must land on
 * our own origin; what is given back is the normalised path, query and fragment, which resolve
 * to themselves (a path normalised to "//host" would not, and is refused).
 */
export function safeCallbackPath(value: string | null | undefined, fallback: string): string {
  if (!value) return fallback;
  let resolved: URL;
  try {
    resolved = new URL(value, CALLBACK_BASE);
  } catch {
    return fallback;
  }
  if (resolved.origin !== CALLBACK_BASE.origin) return fallback;
  const path = `${resolved.pathname}${resolved.search}${resolved.hash}`;
  try {
    if (new URL(path, CALLBACK_BASE).href !== resolved.href) return fallback;
  } catch {
    return fallback;
  }
  return path;
}
