import { useTranslations } from "next-intl";
import type { ReactNode } from "react";
import styles from "./landing.module.css";

const features = ["realtime", "offline", "durable", "resync", "console", "binding"] as const;
type Feature = (typeof features)[number];

const icons: Record<Feature, ReactNode> = {
  realtime: <path d="M13 2 4 14h7l-1 8 9-12h-7l1-8Z" />,
  offline: (
    <>
      <path d="M17.5 19H9a7 7 0 1 1 6.7-9h1.8a4.5 4.5 0 0 1 0 9Z" />
      <path d="m12 12 0 4m0 0-2-2m2 2 2-2" />
    </>
  ),
  durable: (
    <>
      <path d="M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10Z" />
      <path d="m9 12 2 2 4-4" />
    </>
  ),
  resync: (
    <>
      <path d="M21 12a9 9 0 0 1-15.5 6.2L3 16" />
      <path d="M3 12a9 9 0 0 1 15.5-6.2L21 8" />
      <path d="M21 3v5h-5M3 21v-5h5" />
    </>
  ),
  console: (
    <>
      <rect x="3" y="4" width="18" height="14" rx="2" />
      <path d="m7 13 3-3 2 2 5-5M8 21h8" />
    </>
  ),
  binding: (
    <>
      <path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7" />
      <path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7" />
    </>
  ),
};

export function Features() {
  const t = useTranslations("Landing.features");
  return (
    <section className={styles.section} aria-labelledby="features-title">
      <div className="container">
        <h2 id="features-title" className={styles.sectionTitle}>
          {t("title")}
        </h2>
        <ul className={styles.featureGrid}>
          {features.map((feature) => (
            <li key={feature} className={styles.feature}>
              <svg className={styles.featureIcon} viewBox="0 0 24 24" aria-hidden="true">
                {icons[feature]}
              </svg>
              <h3>{t(`${feature}.title`)}</h3>
              <p>{t(`${feature}.body`)}</p>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
