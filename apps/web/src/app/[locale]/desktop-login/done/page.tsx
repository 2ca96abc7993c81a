import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import styles from "@/components/desktop-login/desktop-login.module.css";
import { Link } from "@/i18n/navigation";
import { firstParam, type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";

const RESULTS = ["connected", "declined", "failed", "refused"] as const;
type Result = (typeof RESULTS)[number];

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "DesktopLogin.done" });
  return { title: t("metaTitle"), robots: { index: false } };
}

/**
 * Where the desktop engine's loopback listener sends the browser once a desktop sign-in has
 * ended (approved, declined, failed or refused): says so in the user's language, and that the
 * window can be closed.
 */
export default async function DesktopLoginDonePage({
  params,
  searchParams,
}: LocaleParams & { searchParams: SearchParams }) {
  await pageLocale(params);
  const t = await getTranslations("DesktopLogin.done");
  const raw = firstParam((await searchParams).result);
  const result: Result = RESULTS.includes(raw as Result) ? (raw as Result) : "failed";
  const ok = result === "connected";
  return (
    <section className={styles.page} aria-labelledby="done-title">
      <div
        className={`${styles.card} ${ok ? "" : styles.cardError}`}
        data-testid="desktop-login-done"
        data-result={result}
      >
        <h1 id="done-title" className={styles.title}>
          {t(`${result}Title`)}
        </h1>
        <p className={styles.lead}>{t(`${result}Body`)}</p>
        {ok ? (
          <Link href="/account" className="button">
            {t("account")}
          </Link>
        ) : null}
      </div>
    </section>
  );
}
