import { getTranslations } from "next-intl/server";
import { Link } from "@/i18n/navigation";
import { notFoundMetadata } from "@/lib/not-found-metadata";

export const generateMetadata = notFoundMetadata;

export default async function LocaleNotFound() {
  const t = await getTranslations("Common.notFound");
  return (
    <section className="container not-found" aria-labelledby="not-found-title">
      <p className="not-found__code">404</p>
      <h1 id="not-found-title">{t("title")}</h1>
      <p>{t("body")}</p>
      <Link className="button button--primary" href="/">
        {t("back")}
      </Link>
    </section>
  );
}
