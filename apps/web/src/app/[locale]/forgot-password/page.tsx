import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { AuthShell } from "@/components/auth/AuthShell";
import { ForgotPasswordForm } from "@/components/auth/ForgotPasswordForm";
import { ClientMessages } from "@/components/ClientMessages";
import { Link } from "@/i18n/navigation";
import { type LocaleParams, pageLocale } from "@/lib/page-params";

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Auth.forgot" });
  return { title: t("title"), robots: { index: false } };
}

export default async function ForgotPasswordPage({ params }: LocaleParams) {
  await pageLocale(params);
  const t = await getTranslations("Auth");
  return (
    <AuthShell
      title={t("forgot.title")}
      subtitle={t("forgot.subtitle")}
      footer={<Link href="/sign-in">{t("signIn.submit")}</Link>}
    >
      <ClientMessages namespaces={["Auth"]}>
        <ForgotPasswordForm />
      </ClientMessages>
    </AuthShell>
  );
}
