"use client";

import { useFormatter, useTranslations } from "next-intl";
import { useEffect, useId } from "react";
import styles from "./console.module.css";

const PAGE_SIZES = [10, 25, 50, 100] as const;

/** "26–50 of 10,000", previous / next, and the page size: every page is fetched on its own. */
export function Pager({
  page,
  pageSize,
  total,
  onPage,
  onPageSize,
  testId,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  onPageSize?: (size: number) => void;
  testId: string;
}) {
  const t = useTranslations("Console.common");
  const format = useFormatter();
  const id = useId();
  const from = total === 0 ? 0 : page * pageSize + 1;
  const to = Math.min(total, (page + 1) * pageSize);
  const last = Math.max(0, Math.ceil(total / pageSize) - 1);
  // Rows can disappear while a later page is open (a live update): step back to the last page.
  useEffect(() => {
    if (page > last) onPage(last);
  }, [page, last, onPage]);
  return (
    <div className={styles.pager} data-testid={testId}>
      {onPageSize ? (
        <label className={styles.pageSize} htmlFor={`${id}-size`}>
          <span>{t("pageSize")}</span>
          <select
            id={`${id}-size`}
            className={styles.select}
            value={pageSize}
            onChange={(event) => onPageSize(Number(event.target.value))}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {format.number(size)}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {/* Nothing to count: the list says so itself ("No users match …"), not "0–0 of 0". */}
      <span className={styles.range} data-testid={`${testId}-range`} data-total={total}>
        {total === 0
          ? null
          : t("pageRange", {
              from: format.number(from),
              to: format.number(to),
              total: format.number(total),
            })}
      </span>
      <div className={styles.pagerButtons}>
        <PageButton
          label={t("previous")}
          path="M12 5l-5 5 5 5"
          onClick={() => onPage(page - 1)}
          disabled={page === 0}
          testId={`${testId}-previous`}
        />
        <PageButton
          label={t("next")}
          path="M8 5l5 5-5 5"
          onClick={() => onPage(page + 1)}
          disabled={page >= last}
          testId={`${testId}-next`}
        />
      </div>
    </div>
  );
}

/** A previous/next arrow button; the arrow mirrors in right-to-left languages. */
function PageButton({
  label,
  path,
  onClick,
  disabled,
  testId,
}: {
  label: string;
  path: string;
  onClick(): void;
  disabled: boolean;
  testId: string;
}) {
  return (
    <button
      type="button"
      className={`button button--small button--ghost ${styles.iconButton}`}
      onClick={onClick}
      disabled={disabled}
      aria-label={label}
      title={label}
      data-testid={testId}
    >
      <svg className="flip-rtl" viewBox="0 0 20 20" aria-hidden="true">
        <path d={path} />
      </svg>
    </button>
  );
}
