"use client";

import { type ReactNode, useId } from "react";
import styles from "./ui.module.css";

/**
 * One panel of the account page or the console: a section named by its heading, a header with
 * the title, an optional line under it and optional actions at the end, then the body.
 */
export function Panel({
  title,
  subtitle,
  actions,
  testId,
  data,
  children,
}: {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  testId?: string;
  /** Extra data-* attributes for tests (without the data- prefix). */
  data?: Record<string, string>;
  children: ReactNode;
}) {
  const id = useId();
  const dataAttributes = Object.fromEntries(
    Object.entries(data ?? {}).map(([key, value]) => [`data-${key}`, value]),
  );
  return (
    <section
      className={styles.panel}
      aria-labelledby={`${id}-title`}
      data-testid={testId}
      {...dataAttributes}
    >
      <header className={styles.panelHeader}>
        <div>
          <h2 id={`${id}-title`}>{title}</h2>
          {typeof subtitle === "string" ? <p>{subtitle}</p> : subtitle}
        </div>
        {actions}
      </header>
      {children}
    </section>
  );
}
