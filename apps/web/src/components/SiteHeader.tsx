import { getTranslations } from "next-intl/server";
import { Link } from "@/i18n/navigation";
import { getSession } from "@/server/session";
import { LocaleSwitcher } from "./LocaleSwitcher";
import { SessionMenu } from "./SessionMenu";
import styles from "./SiteHeader.module.css";

export async function SiteHeader() {
  const t = await getTranslations("Common");
  const session = await getSession();
  const isAdmin = session?.user.role === "admin";
  const consoleLabel = isAdmin ? (await getTranslations("Console"))("navLink") : undefined;
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
          {session ? (
            <SessionMenu
              email={session.user.email}
              name={session.user.name}
              isAdmin={isAdmin}
              consoleLabel={consoleLabel}
            />
          ) : (
            <Link href="/sign-in" className="button button--small" data-testid="header-sign-in">
              {t("nav.signIn")}
            </Link>
          )}
        </nav>
      </div>
    </header>
  );
}
