import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { Consent } from "@/components/desktop-login/Consent";
import { InvalidRequest } from "@/components/desktop-login/InvalidRequest";
import { type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";
import { issueConsentTicket } from "@/server/consent-ticket";
import { desktopLoginQuery, parseDesktopLoginRequest } from "@/server/desktop-login";
import { getSession } from "@/server/session";
import { getSessionSecret } from "@/server/signing-key";

type DesktopLoginPageProps = LocaleParams & { searchParams: SearchParams };

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "DesktopLogin" });
  return { title: t("metaTitle"), robots: { index: false } };
}

/** ADR 0002 §1-2: the desktop engine opens this page; the user approves or declines here. */
export default async function DesktopLoginPage({ params, searchParams }: DesktopLoginPageProps) {
  const locale = await pageLocale(params);
  const parsed = parseDesktopLoginRequest(await searchParams);
  if (!parsed.ok) return <InvalidRequest problems={parsed.problems} />;

  const { request } = parsed;
  const returnPath = `/${locale}/desktop-login?${desktopLoginQuery(request)}`;
  const signInPath = `/${locale}/sign-in`;
  const session = await getSession();
  if (!session) redirect(`${signInPath}?${new URLSearchParams({ callbackUrl: returnPath })}`);

  const ticket = issueConsentTicket(await getSessionSecret(), session.user.id, request);
  return (
    <Consent
      request={request}
      email={session.user.email}
      ticket={ticket}
      returnPath={returnPath}
      signInPath={signInPath}
    />
  );
}
