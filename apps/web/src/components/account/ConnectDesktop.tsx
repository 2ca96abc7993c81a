"use client";

import { useTranslations } from "next-intl";
import styles from "./account.module.css";

/** The commands that bind a headless profile to this web app (shell, so never translated). */
export function cliCommands(webUrl: string): string {
  return [
    "npm install && npm run build -w @chorus/desktop-sync",
    "npx chorus-device profile create laptop",
    `npx chorus-device signin --profile laptop --web-url ${webUrl}`,
    "npx chorus-device run --profile laptop",
  ].join("\n");
}

/** How to get a first desktop connected: the desktop app, or the command-line client. */
export function ConnectDesktop({ webUrl }: { webUrl: string }) {
  const t = useTranslations("Account.connect");
  return (
    <section
      className={styles.connect}
      aria-labelledby="connect-title"
      data-testid="connect-desktop"
    >
      <h3 id="connect-title">{t("title")}</h3>
      <p>{t("body")}</p>
      <ol className={styles.connectWays}>
        <li>
          <h4>{t("appTitle")}</h4>
          <p>{t("appBody")}</p>
        </li>
        <li>
          <h4>{t("cliTitle")}</h4>
          <p>{t("cliBody")}</p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
          <pre className={styles.commands} dir="ltr" tabIndex={0} data-testid="connect-cli">
            <code>{cliCommands(webUrl)}</code>
          </pre>
        </li>
      </ol>
    </section>
  );
}
