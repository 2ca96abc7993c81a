import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import styles from "@/components/desktop-login/desktop-login.module.css";
import { Link } from "@/i18n/navigation";
import { firstParam, type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";
import { verifyEmail } from "@/server/account-security";
import { prisma } from "@/server/db";

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Auth.verify" });
  return { title: t("metaTitle"), robots: { index: false } };
}

/** The link mailed at sign-up: confirms the address once (the link then stops working). */
export default async function VerifyEmailPage({
  params,
  searchParams,
}: LocaleParams & { searchParams: SearchParams }) {
  await pageLocale(params);
  const t = await getTranslations("Auth.verify");
  const token = firstParam((await searchParams).token);
  const result = token ? await verifyEmail(prisma(), token) : { ok: false as const };
  return (
    <section className={styles.page} aria-labelledby="verify-title">
      <div
        className={`${styles.card} ${result.ok ? "" : styles.cardError}`}
        data-testid="verify-email"
        data-result={result.ok ? "ok" : "invalid"}
      >
        <h1 id="verify-title" className={styles.title}>
          {result.ok ? t("ok") : t("invalidTitle")}
        </h1>
        {result.ok ? null : <p className={styles.lead}>{t("invalid")}</p>}
        <Link href="/account" className="button">
          {t("toAccount")}
        </Link>
      </div>
    </section>
  );
}
