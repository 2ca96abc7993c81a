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
  | "name_too_long";

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

/**
 * Where a form may send the browser after signing in: a path on this site only (a full URL or
 * "//host" would make the sign-in page an open redirect).
 */
export function safeCallbackPath(value: string | null | undefined, fallback: string): string {
  if (!value?.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) {
    return fallback;
  }
  return value;
}
