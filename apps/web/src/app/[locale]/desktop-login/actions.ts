"use server";

import { redirect } from "next/navigation";
import { verifyConsentTicket } from "@/server/consent-ticket";
import { prisma } from "@/server/db";
import {
  approveDesktopLogin,
  declinedRedirect,
  parseDesktopLoginRequest,
} from "@/server/desktop-login";
import { getSession } from "@/server/session";
import { getSessionSecret } from "@/server/signing-key";

/** Why a decision was not carried out; the consent form says so in the reader's language. */
export type ConsentFailure = { error: "expired" | "signed_out" };

/**
 * Approve or Decline on the consent screen. CSRF: Next accepts server actions only from this
 * origin, and the form carries a ticket bound to the user and the exact request (consent-ticket.ts).
 * Both outcomes leave for the loopback listener, whose address was validated again here.
 */
export async function decideDesktopLogin(
  _previous: ConsentFailure | null,
  form: FormData,
): Promise<ConsentFailure> {
  const fields = Object.fromEntries(
    [...form.entries()].filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const parsed = parseDesktopLoginRequest(fields);
  if (!parsed.ok) return { error: "expired" };
  const session = await getSession();
  if (!session) return { error: "signed_out" };
  const ticket = fields.ticket ?? "";
  if (!verifyConsentTicket(await getSessionSecret(), ticket, session.user.id, parsed.request)) {
    return { error: "expired" };
  }
  if (fields.decision === "approve") {
    const { redirectTo } = await approveDesktopLogin(prisma(), session.user.id, parsed.request);
    redirect(redirectTo);
  }
  redirect(declinedRedirect(parsed.request));
}
