import { useTranslations } from "next-intl";
import { Link } from "@/i18n/navigation";
import styles from "./landing.module.css";
import { SyncDemo } from "./SyncDemo";

export function Hero() {
  const t = useTranslations("Landing.hero");
  return (
    <section className={styles.hero} aria-labelledby="landing-title">
      <div className={`container ${styles.heroInner}`}>
        <div className={styles.heroCopy}>
          <p className={styles.eyebrow}>{t("eyebrow")}</p>
          <h1 id="landing-title" className={styles.title} data-testid="landing-title">
            {t("title")}
          </h1>
          <p className={styles.lead}>{t("lead")}</p>
          <div className={styles.actions}>
            <Link href="/sign-up" className="button button--primary" data-testid="landing-cta">
              {t("cta")}
              <span className="flip-rtl" aria-hidden="true">
                →
              </span>
            </Link>
            <a href="#how-it-works" className="button button--ghost">
              {t("secondary")}
            </a>
          </div>
        </div>
        <SyncDemo />
      </div>
    </section>
  );
}
