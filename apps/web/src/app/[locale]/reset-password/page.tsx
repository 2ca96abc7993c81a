import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { AuthShell } from "@/components/auth/AuthShell";
import { ResetPasswordForm } from "@/components/auth/ResetPasswordForm";
import { ClientMessages } from "@/components/ClientMessages";
import { Link } from "@/i18n/navigation";
import { firstParam, type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Auth.reset" });
  return { title: t("title"), robots: { index: false } };
}

/** The link of the reset mail. Opening it changes nothing; only submitting the form spends it. */
export default async function ResetPasswordPage({
  params,
  searchParams,
}: LocaleParams & { searchParams: SearchParams }) {
  await pageLocale(params);
  const t = await getTranslations("Auth");
  const token = firstParam((await searchParams).token) ?? "";
  return (
    <AuthShell
      title={t("reset.title")}
      subtitle={t("forgot.subtitle")}
      footer={<Link href="/sign-in">{t("signIn.submit")}</Link>}
    >
      <ClientMessages namespaces={["Auth"]}>
        <ResetPasswordForm token={token} />
      </ClientMessages>
    </AuthShell>
  );
}
