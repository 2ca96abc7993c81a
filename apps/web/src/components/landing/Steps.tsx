import { useFormatter, useTranslations } from "next-intl";
import styles from "./landing.module.css";

const steps = ["signUp", "bind", "edit"] as const;

export function Steps() {
  const t = useTranslations("Landing.steps");
  const format = useFormatter();
  return (
    <section
      id="how-it-works"
      className={`${styles.section} ${styles.stepsSection}`}
      aria-labelledby="steps-title"
    >
      <div className="container">
        <h2 id="steps-title" className={styles.sectionTitle}>
          {t("title")}
        </h2>
        <p className={styles.sectionLead}>{t("subtitle")}</p>
        <ol className={styles.steps}>
          {steps.map((step, index) => (
            <li key={step} className={styles.step}>
              <span className={styles.stepNumber} aria-hidden="true">
                {format.number(index + 1)}
              </span>
              <h3>{t(`${step}.title`)}</h3>
              <p>{t(`${step}.body`)}</p>
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
