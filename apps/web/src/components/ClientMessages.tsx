import type { Messages } from "@chorus/i18n";
import { NextIntlClientProvider } from "next-intl";
import { getMessages } from "next-intl/server";
import type { ReactNode } from "react";

/**
 * Hands client components the catalog namespaces they render, besides `Common`: page copy
 * stays on the server unless a client component needs it.
 */
export async function ClientMessages({
  namespaces,
  children,
}: {
  namespaces: ReadonlyArray<Exclude<keyof Messages, "Common">>;
  children: ReactNode;
}) {
  const messages = await getMessages();
  const picked: Partial<Messages> = { Common: messages.Common };
  for (const namespace of namespaces) Object.assign(picked, { [namespace]: messages[namespace] });
  return <NextIntlClientProvider messages={picked}>{children}</NextIntlClientProvider>;
}
