import { getTranslations } from "next-intl/server";
import { Link } from "@/i18n/navigation";

/** What forbidden() renders (HTTP 403): a signed-in user on a page for administrators. */
export default async function LocaleForbidden() {
  const t = await getTranslations("Console.forbidden");
  return (
    <section
      className="container not-found"
      aria-labelledby="forbidden-title"
      data-testid="forbidden"
    >
      <p className="not-found__code">403</p>
      <h1 id="forbidden-title">{t("title")}</h1>
      <p>{t("body")}</p>
      <Link className="button button--primary" href="/account" data-testid="forbidden-back">
        {t("back")}
      </Link>
    </section>
  );
}
