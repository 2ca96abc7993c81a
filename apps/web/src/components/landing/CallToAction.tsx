import { useTranslations } from "next-intl";
import { Link } from "@/i18n/navigation";
import styles from "./landing.module.css";

export function CallToAction() {
  const t = useTranslations("Landing.cta");
  return (
    <section className={styles.section} aria-labelledby="cta-title">
      <div className="container">
        <div className={styles.cta}>
          <h2 id="cta-title">{t("title")}</h2>
          <p>{t("body")}</p>
          <Link href="/sign-up" className="button button--light" data-testid="landing-cta-bottom">
            {t("button")}
            <span className="flip-rtl" aria-hidden="true">
              →
            </span>
          </Link>
        </div>
      </div>
    </section>
  );
}
