import { createHmac, timingSafeEqual } from "node:crypto";
import type { DesktopLoginRequest } from "./desktop-login";

/*
 * The consent form's CSRF token. Next already refuses server actions whose Origin is not this
 * site; the ticket also holds when a browser sends no Origin. It is an HMAC, under the session
 * secret, of the signed-in user, the exact desktop-login request and an expiry, so it only
 * approves what this user was shown, for a limited time.
 */
export const CONSENT_TICKET_TTL_SECONDS = 10 * 60;

function mac(secret: string, userId: string, request: DesktopLoginRequest, expires: number) {
  const payload = JSON.stringify([
    "desktop-consent",
    userId,
    request.redirect_uri,
    request.state,
    request.code_challenge,
    request.code_challenge_method,
    request.device_name,
    request.platform,
    request.app_version,
    expires,
  ]);
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function issueConsentTicket(
  secret: string,
  userId: string,
  request: DesktopLoginRequest,
  now: Date = new Date(),
): string {
  const expires = Math.floor(now.getTime() / 1000) + CONSENT_TICKET_TTL_SECONDS;
  return `${expires}.${mac(secret, userId, request, expires)}`;
}

export function verifyConsentTicket(
  secret: string,
  ticket: string,
  userId: string,
  request: DesktopLoginRequest,
  now: Date = new Date(),
): boolean {
  const [expiresText, signature] = ticket.split(".");
  const expires = Number(expiresText);
  if (!Number.isSafeInteger(expires) || !signature) return false;
  if (expires < Math.floor(now.getTime() / 1000)) return false;
  const expected = Buffer.from(mac(secret, userId, request, expires));
  const actual = Buffer.from(signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
