import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";

/**
 * The title of the 404 page ("Page not found · Chorus"), not the landing page's that the layout
 * defaults to. Both not-found.tsx and the catch-all page export it: the server-rendered head
 * takes the former, the client's head after hydration the latter, and they must agree.
 */
export async function notFoundMetadata(): Promise<Metadata> {
  const t = await getTranslations("Common.notFound");
  return { title: t("title"), robots: { index: false } };
}
