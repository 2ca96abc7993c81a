"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useFormatter, useTranslations } from "next-intl";
import { useId } from "react";
import { Panel } from "@/components/ui/Panel";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";
import { useSearchedPages } from "./hooks";
import { Pager } from "./Pager";
import { QueryState } from "./QueryProblem";
import { SearchToolbar } from "./SearchField";

/** Accounts with their device count, total ops and watermark; paged and searched on the server. */
export function UsersPanel({
  selectedUserId,
  onSelect,
  signInHref,
}: {
  selectedUserId: string | null;
  onSelect: (userId: string) => void;
  signInHref: string;
}) {
  const t = useTranslations("Console.users");
  const format = useFormatter();
  const trpc = useTRPC();
  const id = useId();
  const paging = useSearchedPages(10);
  const { page, pageSize, query } = paging;
  const users = useQuery(
    trpc.admin.users.queryOptions(
      { page, pageSize, search: query },
      { placeholderData: keepPreviousData },
    ),
  );

  return (
    <Panel title={t("title")} subtitle={t("subtitle")} testId="console-users">
      <SearchToolbar
        id={id}
        label={t("searchLabel")}
        placeholder={t("searchPlaceholder")}
        search={paging.search}
        testId="console-users-search"
      />
      <QueryState
        query={users}
        signInHref={signInHref}
        isEmpty={(data) => data.rows.length === 0}
        empty={<p className={styles.empty}>{t("empty")}</p>}
      >
        {(data) => (
          <>
            <div className={styles.tableWrap}>
              <table className={styles.table}>
                <thead>
                  <tr>
                    <th scope="col">{t("email")}</th>
                    <th scope="col" className={styles.num}>
                      {t("devices")}
                    </th>
                    <th scope="col" className={styles.num}>
                      {t("ops")}
                    </th>
                    <th scope="col" className={styles.num}>
                      {t("watermark")}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.rows.map((user) => {
                    const selected = user.id === selectedUserId;
                    return (
                      <tr
                        key={user.id}
                        className={styles.selectableRow}
                        aria-selected={selected}
                        data-testid="console-user"
                        data-user-id={user.id}
                      >
                        <td>
                          <button
                            type="button"
                            className={`${styles.rowButton} ${styles.truncate}`}
                            onClick={() => onSelect(user.id)}
                            aria-label={t("select", { email: user.email })}
                            aria-pressed={selected}
                            title={user.email}
                          >
                            <span className="ltr-value">{user.email}</span>
                          </button>
                          {user.role === "admin" ? (
                            <span className={styles.tag}>{t("adminBadge")}</span>
                          ) : null}
                        </td>
                        <td className={styles.num} data-testid="console-user-devices">
                          {format.number(user.devices)}
                        </td>
                        <td className={styles.num} data-testid="console-user-ops">
                          {format.number(user.ops)}
                        </td>
                        <td className={styles.num} data-testid="console-user-watermark">
                          {format.number(user.watermark)}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager {...paging.pager} total={data.total} testId="console-users-pager" />
          </>
        )}
      </QueryState>
    </Panel>
  );
}
