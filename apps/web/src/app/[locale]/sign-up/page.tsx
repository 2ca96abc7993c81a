import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { AuthShell } from "@/components/auth/AuthShell";
import { SignUpForm } from "@/components/auth/SignUpForm";
import { ClientMessages } from "@/components/ClientMessages";
import { Link } from "@/i18n/navigation";
import { safeCallbackPath } from "@/lib/account-schema";
import { firstParam, type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";
import { getSession } from "@/server/session";

type SignUpPageProps = LocaleParams & { searchParams: SearchParams };

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Auth.signUp" });
  return { title: t("metaTitle"), robots: { index: false } };
}

export default async function SignUpPage({ params, searchParams }: SignUpPageProps) {
  const locale = await pageLocale(params);
  const query = await searchParams;
  const callbackUrl = safeCallbackPath(firstParam(query.callbackUrl), `/${locale}/account`);
  if (await getSession()) redirect(callbackUrl);

  const t = await getTranslations("Auth");
  return (
    <AuthShell
      title={t("signUp.title")}
      subtitle={t("signUp.subtitle")}
      footer={
        <>
          {t("signUp.haveAccount")}{" "}
          <Link href={{ pathname: "/sign-in", query: { callbackUrl } }} data-testid="to-sign-in">
            {t("signUp.signIn")}
          </Link>
        </>
      }
    >
      <ClientMessages namespaces={["Auth"]}>
        <SignUpForm callbackUrl={callbackUrl} />
      </ClientMessages>
    </AuthShell>
  );
}
