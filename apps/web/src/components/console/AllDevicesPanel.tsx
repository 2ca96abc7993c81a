"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useEffect, useId, useState } from "react";
import { Panel } from "@/components/ui/Panel";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";
import { DeviceRowView } from "./DeviceRowView";
import { useNow, useSearchedPages } from "./hooks";
import type { LagHistory } from "./lag-history";
import { Pager } from "./Pager";
import { QueryState } from "./QueryProblem";
import { SearchToolbar } from "./SearchField";
import type { DeviceSort, DeviceStatus, SortDirection } from "./types";

const STATUSES: readonly DeviceStatus[] = ["all", "online", "active", "stale", "revoked"];

type Column =
  | "user"
  | "device"
  | "connection"
  | "lastSeen"
  | "storedCursor"
  | "bufferedCursor"
  | "lagOps"
  | "lagTime"
  | "staleIn"
  | "boundAt"
  | "revokedAt";

/*
 * Eight columns, so the table fits a 1280 px window in every language: related values share a
 * column, the second one on a smaller line under the first (the heading says both).
 */
const COLUMNS: ReadonlyArray<{
  column: Column;
  sub?: Column | "platformVersion";
  sort?: DeviceSort;
  numeric?: boolean;
}> = [
  { column: "user", sort: "email" },
  { column: "device", sub: "platformVersion", sort: "name" },
  { column: "connection" },
  { column: "lastSeen", sort: "lastSeen" },
  { column: "storedCursor", sub: "bufferedCursor", sort: "cursor", numeric: true },
  { column: "lagOps", sub: "lagTime", numeric: true },
  { column: "staleIn" },
  { column: "boundAt", sub: "revokedAt", sort: "boundAt" },
];

/**
 * Every device of every account, one page at a time: paging, sorting and filtering happen in
 * the sync server's SQL, so ten thousand devices cost what one page costs.
 */
export function AllDevicesPanel({
  onSelectUser,
  onExplain,
  history,
  signInHref,
}: {
  onSelectUser: (userId: string) => void;
  /** Opens "why is this device behind?" for a device. */
  onExplain: (deviceId: string) => void;
  history: LagHistory;
  signInHref: string;
}) {
  const t = useTranslations("Console.devices");
  const trpc = useTRPC();
  const id = useId();
  const now = useNow();
  const [status, setStatus] = useState<DeviceStatus>("all");
  const [sort, setSort] = useState<DeviceSort>("lastSeen");
  const [direction, setDirection] = useState<SortDirection>("desc");
  const paging = useSearchedPages(25);
  const { page, pageSize, query } = paging;
  const devices = useQuery(
    trpc.admin.devices.queryOptions(
      { page, pageSize, sort, direction, search: query, status },
      { placeholderData: keepPreviousData },
    ),
  );

  // Every refetch (each live update) is a lag sample of the devices on this page.
  const { data, dataUpdatedAt, isPlaceholderData } = devices;
  useEffect(() => {
    if (data && !isPlaceholderData) history.record(data.rows, dataUpdatedAt);
  }, [data, dataUpdatedAt, isPlaceholderData, history]);

  function sortBy(next: DeviceSort) {
    if (next === sort) setDirection(direction === "asc" ? "desc" : "asc");
    else {
      setSort(next);
      setDirection(next === "name" || next === "email" ? "asc" : "desc");
    }
    paging.restart();
  }

  return (
    <Panel title={t("title")} subtitle={t("subtitle")} testId="console-devices">
      <SearchToolbar
        id={id}
        label={t("searchLabel")}
        placeholder={t("searchPlaceholder")}
        search={paging.search}
        testId="console-devices-search"
      >
        <label className={styles.filter} htmlFor={`${id}-status`}>
          <span>{t("statusLabel")}</span>
          <select
            id={`${id}-status`}
            className={styles.select}
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as DeviceStatus);
              paging.restart();
            }}
            data-testid="console-devices-status"
          >
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {t(`status.${value}`)}
              </option>
            ))}
          </select>
        </label>
      </SearchToolbar>
      <QueryState query={devices} signInHref={signInHref}>
        {(data) => (
          <>
            <div className={styles.tableWrap}>
              <table
                className={`${styles.table} ${styles.devicesTable}`}
                aria-busy={devices.isFetching && isPlaceholderData}
              >
                <thead>
                  <tr>
                    {COLUMNS.map(({ column, sub, sort: key, numeric }) => {
                      const label = t(`columns.${column}`);
                      const active = key !== undefined && key === sort;
                      return (
                        <th
                          key={column}
                          scope="col"
                          className={numeric ? styles.num : undefined}
                          aria-sort={
                            active ? (direction === "asc" ? "ascending" : "descending") : undefined
                          }
                        >
                          {key ? (
                            <button
                              type="button"
                              className={styles.sortButton}
                              onClick={() => sortBy(key)}
                              title={t("sortBy", { column: label })}
                              data-testid={`console-sort-${key}`}
                            >
                              {label}
                              <span className={styles.sortMark} aria-hidden="true">
                                {active ? (direction === "asc" ? "▲" : "▼") : "↕"}
                              </span>
                            </button>
                          ) : (
                            label
                          )}
                          {sub ? (
                            <span className={styles.subline}>
                              {sub === "platformVersion"
                                ? `${t("columns.platform")} · ${t("columns.version")}`
                                : t(`columns.${sub}`)}
                            </span>
                          ) : null}
                        </th>
                      );
                    })}
                  </tr>
                </thead>
                <tbody>
                  {data.rows.length === 0 ? (
                    <tr>
                      <td colSpan={COLUMNS.length} className={styles.emptyCell}>
                        {t("empty")}
                      </td>
                    </tr>
                  ) : (
                    data.rows.map((device) => (
                      <DeviceRowView
                        key={device.id}
                        device={device}
                        fetchedAt={dataUpdatedAt}
                        now={now}
                        onSelectUser={onSelectUser}
                        onExplain={onExplain}
                      />
                    ))
                  )}
                </tbody>
              </table>
            </div>
            <Pager {...paging.pager} total={data.total} testId="console-devices-pager" />
          </>
        )}
      </QueryState>
    </Panel>
  );
}
