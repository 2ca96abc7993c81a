import { getTranslations } from "next-intl/server";
import { Link } from "@/i18n/navigation";
import type { DesktopLoginProblem } from "@/server/desktop-login";
import styles from "./desktop-login.module.css";

/** A desktop-login link that cannot be honoured: say what is wrong, and never redirect. */
export async function InvalidRequest({ problems }: { problems: DesktopLoginProblem[] }) {
  const t = await getTranslations("DesktopLogin.invalid");
  return (
    <section className={styles.page} aria-labelledby="invalid-title">
      <div className={`${styles.card} ${styles.cardError}`} data-testid="desktop-login-invalid">
        <span className={styles.errorIcon} aria-hidden="true">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 3l9.5 17h-19z" />
            <path d="M12 10v4.5" />
            <circle cx="12" cy="17.3" r="0.6" />
          </svg>
        </span>
        <h1 id="invalid-title" className={styles.title}>
          {t("title")}
        </h1>
        <p className={styles.lead}>{t("body")}</p>
        <div className={styles.problems}>
          <p>{t("detailsTitle")}</p>
          <ul>
            {problems.map((problem) => (
              <li key={problem} data-testid={`problem-${problem}`}>
                {t(`problems.${problem}`)}
              </li>
            ))}
          </ul>
        </div>
        <Link href="/" className="button">
          {t("home")}
        </Link>
      </div>
    </section>
  );
}
