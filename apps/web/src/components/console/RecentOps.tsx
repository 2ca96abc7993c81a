"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormatter, useLocale, useTranslations } from "next-intl";
import { formatBytes } from "@/lib/format-duration";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";

/**
 * A user's newest ops. A value sealed on the user's devices (end-to-end encryption) is shown as
 * what it is — a lock, "Encrypted", its size — never as its ciphertext.
 */
export function RecentOps({ userId }: { userId: string }) {
  const t = useTranslations("Console.ops");
  const format = useFormatter();
  const locale = useLocale();
  const trpc = useTRPC();
  const ops = useQuery(trpc.admin.recentOps.queryOptions({ userId, limit: 20 }));
  const rows = ops.data ?? [];
  return (
    <div className={styles.subsection} data-testid="recent-ops">
      <h3>{t("title")}</h3>
      {ops.isSuccess && rows.length === 0 ? <p className={styles.muted}>{t("empty")}</p> : null}
      <ul className={styles.deviceList}>
        {rows.map((op) => {
          const { value } = op;
          return (
            <li key={op.id} data-testid="recent-op" data-value-kind={value.kind}>
              <span className={styles.muted}>#{format.number(op.id)}</span>
              <span className={`${styles.strong} ltr-value`}>
                {op.op} {op.entity}
                {op.field ? `.${op.field}` : ""}
              </span>
              {value.kind === "sealed" ? (
                <span className={styles.pill} data-tone="encrypted" title={t("encryptedHint")}>
                  <span aria-hidden="true">🔒 </span>
                  {t("encrypted")} · {formatBytes(value.bytes, locale)}
                </span>
              ) : value.kind === "sealed_fields" ? (
                <span className={styles.pill} data-tone="encrypted" title={t("encryptedHint")}>
                  <span aria-hidden="true">🔒 </span>
                  {t("encryptedFields", { sealed: value.sealed, count: value.fields })} ·{" "}
                  {formatBytes(value.bytes, locale)}
                </span>
              ) : value.kind === "plain" ? (
                <span className={`${styles.muted} ltr-value`} data-testid="recent-op-preview">
                  {op.preview} · {formatBytes(value.bytes, locale)}
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
