import { useTranslations } from "next-intl";
import styles from "./SiteFooter.module.css";

export function SiteFooter() {
  const t = useTranslations("Common.footer");
  return (
    <footer className={styles.footer}>
      <div className={`container ${styles.inner}`}>
        <p>{t("tagline")}</p>
        <p className={styles.copyright}>
          {t("copyright", { year: String(new Date().getFullYear()) })}
        </p>
      </div>
    </footer>
  );
}
