"use client";

import { signOut } from "next-auth/react";
import styles from "./desktop-login.module.css";

/** Signs out and comes back to the same desktop request through the sign-in page. */
export function SwitchAccountButton({
  label,
  callbackUrl,
}: {
  label: string;
  callbackUrl: string;
}) {
  return (
    <button
      type="button"
      className={styles.switch}
      onClick={() => void signOut({ callbackUrl })}
      data-testid="consent-switch-account"
    >
      {label}
    </button>
  );
}
