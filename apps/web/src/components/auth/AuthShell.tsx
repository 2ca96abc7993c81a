import { useTranslations } from "next-intl";
import type { ReactNode } from "react";
import styles from "./auth.module.css";

type AuthShellProps = {
  title: string;
  subtitle: string;
  /** Shown above the form, e.g. why the user is asked to sign in. */
  notice?: ReactNode;
  children: ReactNode;
  footer: ReactNode;
};

/** The frame of the sign-in and sign-up pages: a brand panel beside a form card. */
export function AuthShell({ title, subtitle, notice, children, footer }: AuthShellProps) {
  const t = useTranslations("Auth.panel");
  return (
    <section className={styles.shell}>
      <div className={`container ${styles.grid}`}>
        <aside className={styles.panel} aria-label={t("label")}>
          <p className={styles.panelTitle}>{t("title")}</p>
          <ul className={styles.points}>
            {(["realtime", "offline", "browser"] as const).map((point) => (
              <li key={point}>
                <svg viewBox="0 0 20 20" aria-hidden="true" className={styles.check}>
                  <path d="M5 10.5l3 3 7-7" />
                </svg>
                {t(point)}
              </li>
            ))}
          </ul>
        </aside>
        <div className={styles.card}>
          <header className={styles.cardHeader}>
            <h1 data-testid="auth-title">{title}</h1>
            <p>{subtitle}</p>
          </header>
          {notice}
          {children}
          <footer className={styles.switch}>{footer}</footer>
        </div>
      </div>
    </section>
  );
}
