import { useTranslations } from "next-intl";
import { Link } from "@/i18n/navigation";
import { LocaleSwitcher } from "./LocaleSwitcher";
import styles from "./SiteHeader.module.css";

export function SiteHeader() {
  const t = useTranslations("Common");
  return (
    <header className={styles.header}>
      <div className={`container ${styles.inner}`}>
        <Link href="/" className={styles.brand} aria-label={t("nav.home")}>
          <span className={styles.mark} aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {t("appName")}
        </Link>
        <nav className={styles.nav} aria-label={t("appName")}>
          <LocaleSwitcher />
          <Link href="/sign-in" className="button button--small" data-testid="header-sign-in">
            {t("nav.signIn")}
          </Link>
        </nav>
      </div>
    </header>
  );
}
