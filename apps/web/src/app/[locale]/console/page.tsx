import type { Metadata } from "next";
import { forbidden, redirect } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { z } from "zod";
import { ClientMessages } from "@/components/ClientMessages";
import { ConsoleApp } from "@/components/console/ConsoleApp";
import styles from "@/components/console/console.module.css";
import { SyncApiProvider } from "@/components/SyncApiProvider";
import { env } from "@/env";
import { firstParam, type LocaleParams, pageLocale, type SearchParams } from "@/lib/page-params";
import { prisma } from "@/server/db";
import { getSession } from "@/server/session";

type ConsolePageProps = LocaleParams & { searchParams: SearchParams };

export async function generateMetadata({ params }: LocaleParams): Promise<Metadata> {
  const locale = await pageLocale(params);
  const t = await getTranslations({ locale, namespace: "Console" });
  return { title: t("metaTitle"), robots: { index: false } };
}

/**
 * The admin console. The role is read from the database on every request (a promotion or a
 * demotion counts at once); the sync server checks it again on every call, from the token
 * /api/sync-token mints with the role it reads from the database too.
 */
export default async function ConsolePage({ params, searchParams }: ConsolePageProps) {
  const locale = await pageLocale(params);
  const signInHref = `/${locale}/sign-in?${new URLSearchParams({ callbackUrl: `/${locale}/console` })}`;
  const session = await getSession();
  if (!session) redirect(signInHref);
  const user = await prisma().user.findUnique({
    where: { id: session.user.id },
    select: { role: true },
  });
  if (!user) redirect(signInHref);
  if (user.role !== "admin") forbidden();

  const selected = z.uuid().safeParse(firstParam((await searchParams).user));
  return (
    <div className={`container ${styles.page}`}>
      <ClientMessages namespaces={["Console", "Diagnosis"]}>
        <SyncApiProvider syncUrl={env().SYNC_URL}>
          <ConsoleApp
            signInHref={signInHref}
            initialUserId={selected.success ? selected.data : null}
          />
        </SyncApiProvider>
      </ClientMessages>
    </div>
  );
}
