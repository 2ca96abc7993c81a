"use client";

import type { ReactNode } from "react";
import styles from "./console.module.css";

/** A console table's search box: a visually hidden label and the input. */
export function SearchField({
  id,
  label,
  placeholder,
  value,
  onChange,
  testId,
}: {
  id: string;
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  testId: string;
}) {
  return (
    <>
      <label className="visually-hidden" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        type="search"
        className={`input ${styles.search}`}
        placeholder={placeholder}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        data-testid={testId}
      />
    </>
  );
}

/**
 * A console panel's toolbar: the search box first (`search` from useSearchedPages, which goes
 * back to the first page on a new search), then whatever filters the panel adds.
 */
export function SearchToolbar({
  id,
  label,
  placeholder,
  search,
  testId,
  children,
}: {
  id: string;
  label: string;
  placeholder: string;
  search: { value: string; onChange: (value: string) => void };
  testId: string;
  children?: ReactNode;
}) {
  return (
    <div className={styles.toolbar}>
      <SearchField
        id={`${id}-search`}
        label={label}
        placeholder={placeholder}
        value={search.value}
        onChange={search.onChange}
        testId={testId}
      />
      {children}
    </div>
  );
}
