import { getTranslations } from "next-intl/server";
import { ClientMessages } from "@/components/ClientMessages";
import type { DesktopLoginRequest } from "@/server/desktop-login";
import { ConsentForm } from "./ConsentForm";
import styles from "./desktop-login.module.css";
import { platformName } from "./platform";
import { SwitchAccountButton } from "./SwitchAccountButton";

type ConsentProps = {
  request: DesktopLoginRequest;
  email: string;
  ticket: string;
  /** This page's own path and query, to come back to after switching account. */
  returnPath: string;
  signInPath: string;
};

/** "Connect this desktop to your account?": names the desktop profile and the account. */
export async function Consent({ request, email, ticket, returnPath, signInPath }: ConsentProps) {
  const t = await getTranslations("DesktopLogin.consent");
  const appName = (await getTranslations("Common"))("appName");
  return (
    <section className={styles.page} aria-labelledby="consent-title">
      <div className={styles.card} data-testid="consent">
        <div className={styles.link} aria-hidden="true">
          <span className={styles.linkIcon}>
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <rect x="3" y="4" width="18" height="12" rx="2" />
              <path d="M8 20h8M12 16v4" />
            </svg>
          </span>
          <span className={styles.linkLine} />
          <span className={`${styles.linkIcon} ${styles.linkBrand}`}>
            <span />
            <span />
            <span />
          </span>
        </div>
        <p className={styles.eyebrow}>{t("eyebrow")}</p>
        <h1 id="consent-title" className={styles.title} data-testid="consent-title">
          {t("title", { device: request.device_name })}
        </h1>
        <p className={styles.lead}>{t("lead")}</p>

        <dl className={styles.facts}>
          <div>
            <dt>{t("device")}</dt>
            <dd data-testid="consent-device">{request.device_name}</dd>
          </div>
          <div>
            <dt>{t("platform")}</dt>
            <dd>
              <span className="ltr-value" data-testid="consent-platform">
                {platformName(request.platform)}
              </span>
              {" · "}
              <span className="ltr-value">
                {appName} {request.app_version}
              </span>
            </dd>
          </div>
          <div>
            <dt>{t("account")}</dt>
            <dd className={styles.account}>
              <span className="ltr-value" data-testid="consent-account">
                {email}
              </span>
              <SwitchAccountButton
                label={t("switchAccount")}
                callbackUrl={`${signInPath}?${new URLSearchParams({ callbackUrl: returnPath })}`}
              />
            </dd>
          </div>
        </dl>

        <div className={styles.scope}>
          <p>{t("scopeTitle")}</p>
          <ul>
            <li>{t("scopeSync")}</li>
            <li>{t("scopeStay")}</li>
          </ul>
        </div>
        <p className={styles.warning}>{t("warning")}</p>

        <ClientMessages namespaces={["DesktopLogin"]}>
          <ConsentForm
            request={{ ...request }}
            ticket={ticket}
            signInAgainHref={`${signInPath}?${new URLSearchParams({ callbackUrl: returnPath })}`}
          />
        </ClientMessages>
      </div>
    </section>
  );
}
