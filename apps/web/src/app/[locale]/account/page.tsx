import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getFormatter, getTranslations } from "next-intl/server";
import styles from "@/components/account/account.module.css";
import { DevicesPanel } from "@/components/account/DevicesPanel";
import { SecurityPanel } from "@/components/account/SecurityPanel";
import { ClientMessages } from "@/components/ClientMessages";
import { SyncApiProvider } from "@/components/SyncApiProvider";
import { Panel } from "@/components/ui/Panel";
import { env } from "@/env";
import { type LocaleParams, pageLocale } from "@/lib/page-params";
import { prisma } from "@/server/db";
import { getSession } from "@/server/session";

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Account" });
  return { title: t("metaTitle"), robots: { index: false } };
}

export default async function AccountPage({ params }: LocaleParams) {
  const locale = await pageLocale(params);
  const signInHref = `/${locale}/sign-in?${new URLSearchParams({ callbackUrl: `/${locale}/account` })}`;
  const session = await getSession();
  if (!session) redirect(signInHref);
  const user = await prisma().user.findUnique({
    where: { id: session.user.id },
    select: { email: true, name: true, role: true, createdAt: true, emailVerifiedAt: true },
  });
  if (!user) redirect(signInHref);

  const t = await getTranslations("Account");
  const format = await getFormatter();
  return (
    <div className={`container ${styles.page}`}>
      <header className={styles.header}>
        <h1 data-testid="account-title">{t("title")}</h1>
        <p>{t("subtitle")}</p>
      </header>

      <Panel title={t("profile.title")} testId="profile">
        <dl className={styles.profile}>
          <div>
            <dt>{t("profile.email")}</dt>
            <dd className="ltr-value" data-testid="account-email">
              {user.email}
            </dd>
          </div>
          <div>
            <dt>{t("profile.name")}</dt>
            <dd>{user.name ?? <span className={styles.muted}>{t("profile.noName")}</span>}</dd>
          </div>
          <div>
            <dt>{t("profile.role")}</dt>
            <dd data-testid="account-role">
              {user.role === "admin" ? t("profile.roleAdmin") : t("profile.roleUser")}
            </dd>
          </div>
          <div>
            <dt>{t("profile.memberSince")}</dt>
            <dd>{format.dateTime(user.createdAt, { dateStyle: "long" })}</dd>
          </div>
        </dl>
      </Panel>

      <ClientMessages namespaces={["Account", "Diagnosis"]}>
        <SyncApiProvider syncUrl={env().SYNC_URL}>
          <DevicesPanel signInHref={signInHref} webUrl={env().WEB_URL} />
        </SyncApiProvider>
      </ClientMessages>
      <ClientMessages namespaces={["Account", "Auth"]}>
        <SecurityPanel email={user.email} verified={user.emailVerifiedAt !== null} />
      </ClientMessages>
    </div>
  );
}
