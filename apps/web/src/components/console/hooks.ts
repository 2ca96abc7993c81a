"use client";

import { useEffect, useState } from "react";

/** The current time, re-read every `intervalMs` (countdowns and "3 s ago" keep moving). */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** `value`, once it has stopped changing for `delayMs` (search boxes query the server). */
export function useDebounced<T>(value: T, delayMs = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/**
 * Page and page size of a server-paged table. A new page size, search or filter starts again at
 * the first page (`restart`). `pager` is what `<Pager>` takes for them.
 */
export function usePaging(initialPageSize: number) {
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(initialPageSize);
  return {
    page,
    pageSize,
    restart: () => setPage(0),
    pager: {
      page,
      pageSize,
      onPage: setPage,
      onPageSize: (size: number) => {
        setPageSize(size);
        setPage(0);
      },
    },
  };
}

/**
 * A searched, paged table: the page and its size, the search as typed (`search`, for the box)
 * and as asked (`query`, trimmed and debounced). A new search goes back to the first page.
 */
export function useSearchedPages(initialPageSize: number) {
  const paging = usePaging(initialPageSize);
  const [value, setValue] = useState("");
  const query = useDebounced(value.trim());
  return {
    ...paging,
    query,
    search: {
      value,
      onChange: (next: string) => {
        setValue(next);
        paging.restart();
      },
    },
  };
}
