import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CONSENT_TICKET_TTL_SECONDS,
  issueConsentTicket,
  verifyConsentTicket,
} from "@/server/consent-ticket";
import type { DesktopLoginRequest } from "@/server/desktop-login";

const secret = "s".repeat(40);
const request: DesktopLoginRequest = {
  redirect_uri: "http://127.0.0.1:53123/callback",
  state: "x".repeat(43),
  code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  code_challenge_method: "S256",
  device_name: "Studio Mac",
  platform: "darwin",
  app_version: "1.4.0",
};

describe("the consent form's CSRF ticket", () => {
  const userId = randomUUID();
  const now = new Date("2026-11-22T10:00:00Z");
  const ticket = issueConsentTicket(secret, userId, request, now);

  it("approves exactly the request shown to this user", () => {
    expect(verifyConsentTicket(secret, ticket, userId, request, now)).toBe(true);
  });

  it("is refused for another user, another request, another secret or a forged value", () => {
    expect(verifyConsentTicket(secret, ticket, randomUUID(), request, now)).toBe(false);
    const elsewhere = { ...request, redirect_uri: "http://127.0.0.1:1/callback" };
    expect(verifyConsentTicket(secret, ticket, userId, elsewhere, now)).toBe(false);
    expect(verifyConsentTicket(`${secret}!`, ticket, userId, request, now)).toBe(false);
    expect(verifyConsentTicket(secret, "", userId, request, now)).toBe(false);
    expect(verifyConsentTicket(secret, `${ticket}x`, userId, request, now)).toBe(false);
  });

  it("expires", () => {
    const later = new Date(now.getTime() + (CONSENT_TICKET_TTL_SECONDS + 1) * 1000);
    expect(verifyConsentTicket(secret, ticket, userId, request, later)).toBe(false);
  });
});
