import type { Metadata } from "next";
import { forbidden, redirect } from "next/navigation";
import styles from "@/components/console/console.module.css";
import { Markdown } from "@/lib/markdown";
import { type LocaleParams, pageLocale } from "@/lib/page-params";
import { prisma } from "@/server/db";
import { getSession } from "@/server/session";
import runbooks from "../../../../../../../docs/runbooks/devices.md";

export const metadata: Metadata = { title: "Runbooks", robots: { index: false } };

/**
 * The runbooks (docs/runbooks/devices.md): what an administrator does about each verdict of "Why is
 * this device behind?" and about a convergence audit mismatch; the console links each verdict
 * to its section. For administrators, like the console; written in English.
 */
export default async function RunbooksPage({ params }: LocaleParams) {
  const locale = await pageLocale(params);
  const signInHref = `/${locale}/sign-in?${new URLSearchParams({ callbackUrl: `/${locale}/console/runbooks` })}`;
  const session = await getSession();
  if (!session) redirect(signInHref);
  const user = await prisma().user.findUnique({
    where: { id: session.user.id },
    select: { role: true },
  });
  if (!user) redirect(signInHref);
  if (user.role !== "admin") forbidden();
  return (
    <article
      className={`container ${styles.page} ${styles.runbooks}`}
      lang="en"
      dir="ltr"
      data-testid="runbooks"
    >
      <Markdown source={runbooks} />
    </article>
  );
}
