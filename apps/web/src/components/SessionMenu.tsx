"use client";

import { signOut } from "next-auth/react";
import { useLocale, useTranslations } from "next-intl";
import { useEffect, useId, useRef, useState } from "react";
import { Link } from "@/i18n/navigation";
import styles from "./SessionMenu.module.css";

type SessionMenuProps = {
  email: string;
  name: string | null;
  isAdmin: boolean;
  /** The admin console's link text (given to admins only: it is not a Common string). */
  consoleLabel?: string | undefined;
};

/** The signed-in user's menu in the header: who they are, their account, sign out. */
export function SessionMenu({ email, name, isAdmin, consoleLabel }: SessionMenuProps) {
  const t = useTranslations("Common.session");
  const locale = useLocale();
  const [open, setOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    function onPointerDown(event: PointerEvent) {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    }
    function onKeyDown(event: KeyboardEvent) {
      if (event.key === "Escape") {
        setOpen(false);
        buttonRef.current?.focus();
      }
    }
    document.addEventListener("pointerdown", onPointerDown);
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown);
      document.removeEventListener("keydown", onKeyDown);
    };
  }, [open]);

  async function onSignOut() {
    setSigningOut(true);
    await signOut({ callbackUrl: `/${locale}` });
  }

  const initial = (name?.trim() || email).charAt(0).toUpperCase();
  return (
    <div className={styles.root} ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className={styles.trigger}
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((current) => !current)}
        data-testid="session-menu"
      >
        <span className={styles.avatar} aria-hidden="true">
          {initial}
        </span>
        {/* The name is what it shows, with context before it (WCAG 2.5.3: label in name). */}
        <span className="visually-hidden">{t("signedInAs")} </span>
        <span className={`${styles.email} ltr-value`}>{email}</span>
        <svg className={styles.chevron} viewBox="0 0 20 20" aria-hidden="true">
          <path d="M5 8l5 5 5-5" />
        </svg>
      </button>
      {open ? (
        <div id={menuId} className={styles.panel}>
          <div className={styles.identity}>
            <span className={styles.caption}>{t("signedInAs")}</span>
            {name ? <span className={styles.name}>{name}</span> : null}
            <span className={`${styles.address} ltr-value`} data-testid="session-email">
              {email}
            </span>
            {isAdmin ? <span className={styles.badge}>{t("admin")}</span> : null}
          </div>
          <ul className={styles.items}>
            <li>
              <Link
                href="/account"
                className={styles.item}
                onClick={() => setOpen(false)}
                data-testid="session-account"
              >
                {t("account")}
              </Link>
            </li>
            {isAdmin && consoleLabel ? (
              <li>
                <Link
                  href="/console"
                  className={styles.item}
                  onClick={() => setOpen(false)}
                  data-testid="session-console"
                >
                  {consoleLabel}
                </Link>
              </li>
            ) : null}
            <li>
              <button
                type="button"
                className={styles.item}
                onClick={onSignOut}
                disabled={signingOut}
                data-testid="sign-out"
              >
                {t("signOut")}
              </button>
            </li>
          </ul>
        </div>
      ) : null}
    </div>
  );
}
