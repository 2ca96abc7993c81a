import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { AuthShell } from "@/components/auth/AuthShell";
import styles from "@/components/auth/auth.module.css";
import { SignInForm } from "@/components/auth/SignInForm";
import { ClientMessages } from "@/components/ClientMessages";
import { Link } from "@/i18n/navigation";
import { safeCallbackPath } from "@/lib/account-schema";
import { firstParam, type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";
import { getSession } from "@/server/session";

type SignInPageProps = LocaleParams & { searchParams: SearchParams };

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Auth.signIn" });
  return { title: t("metaTitle"), robots: { index: false } };
}

export default async function SignInPage({ params, searchParams }: SignInPageProps) {
  const locale = await pageLocale(params);
  const query = await searchParams;
  const callbackUrl = safeCallbackPath(firstParam(query.callbackUrl), `/${locale}/account`);
  if (await getSession()) redirect(callbackUrl);

  const t = await getTranslations("Auth");
  const fromDesktop = callbackUrl.startsWith(`/${locale}/desktop-login?`);
  return (
    <AuthShell
      title={t("signIn.title")}
      subtitle={t("signIn.subtitle")}
      notice={
        fromDesktop ? (
          <p className={styles.notice} data-testid="desktop-sign-in-notice">
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <rect x="3" y="4" width="18" height="12" rx="2" />
              <path d="M8 20h8M12 16v4" />
            </svg>
            {t("signIn.desktopNotice")}
          </p>
        ) : undefined
      }
      footer={
        <>
          {t("signIn.noAccount")}{" "}
          <Link href={{ pathname: "/sign-up", query: { callbackUrl } }} data-testid="to-sign-up">
            {t("signIn.createAccount")}
          </Link>
        </>
      }
    >
      <ClientMessages namespaces={["Auth"]}>
        <SignInForm callbackUrl={callbackUrl} />
      </ClientMessages>
    </AuthShell>
  );
}
