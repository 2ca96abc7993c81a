import { useTranslations } from "use-intl";
import { BridgeError } from "./bridge.js";

/*
 * Errors in the user's words and language. Inputs are checked here first, with the same
 * rules main enforces (so a refusal from main is rare); whatever main or the engine still
 * refuses is said by its code, not by the engine's English message.
 */

export const NAME_MAX = 200;
export const DEVICE_NAME_MAX = 80;
const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export type FieldProblem =
  | { key: "nameEmpty" }
  | { key: "nameTooLong"; max: number }
  | { key: "profileName" }
  | { key: "webUrl" };

/** A playlist name or a track title: 1 to 200 characters after trimming. */
export function checkName(value: string, max = NAME_MAX): FieldProblem | null {
  const trimmed = value.trim();
  if (trimmed === "") return { key: "nameEmpty" };
  if (trimmed.length > max) return { key: "nameTooLong", max };
  return null;
}

export function checkProfileName(value: string): FieldProblem | null {
  const trimmed = value.trim();
  if (trimmed === "") return { key: "nameEmpty" };
  return PROFILE_NAME.test(trimmed) ? null : { key: "profileName" };
}

export function checkWebUrl(value: string): FieldProblem | null {
  try {
    const url = new URL(value.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? null : { key: "webUrl" };
  } catch {
    return { key: "webUrl" };
  }
}

const KNOWN_CODES = new Set([
  "invalid_payload",
  "invalid_input",
  "invalid_profile_name",
  "profile_exists",
  "profile_not_found",
  "profile_corrupt",
  "not_found",
  "offline",
  "not_signed_in",
  "sign_in_failed",
  "server_refused",
  "pending_changes",
  "wrong_password",
  "key_exists",
  "encryption_locked",
  "encryption_not_set",
  "key_changed",
  "blob_too_large",
  "quota_exceeded",
  "blob_missing",
  "blob_unreadable",
  "internal",
]);

/** Says a field problem in the current language. */
export function useFieldProblemText() {
  const t = useTranslations("Desktop.errors");
  return (problem: FieldProblem) =>
    problem.key === "nameTooLong" ? t("nameTooLong", { max: problem.max }) : t(problem.key);
}

/** Says a failed bridge call in the current language (by its code). */
export function useErrorText() {
  const t = useTranslations("Desktop.errors");
  return (error: Error) => {
    const code = error instanceof BridgeError ? error.code : "internal";
    return KNOWN_CODES.has(code) ? t(`code.${code}` as "code.internal") : t("code.internal");
  };
}
