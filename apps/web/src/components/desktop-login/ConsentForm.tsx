"use client";

import { useTranslations } from "next-intl";
import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import { type ConsentFailure, decideDesktopLogin } from "@/app/[locale]/desktop-login/actions";
import styles from "./desktop-login.module.css";

type ConsentFormProps = {
  /** The validated desktop-login request, sent back with the decision. */
  request: Record<string, string>;
  ticket: string;
  signInAgainHref: string;
};

/** Decline first, Approve (the primary action) last; each says so while it is being sent. */
const DECISIONS = [
  { decision: "decline", className: "button", pendingLabel: "declining" },
  { decision: "approve", className: "button button--primary", pendingLabel: "approving" },
] as const;

function DecisionButtons() {
  const t = useTranslations("DesktopLogin.consent");
  const { pending, data } = useFormStatus();
  const choice = pending ? data?.get("decision") : null;
  return (
    <div className={styles.actions}>
      {DECISIONS.map(({ decision, className, pendingLabel }) => (
        <button
          key={decision}
          type="submit"
          name="decision"
          value={decision}
          className={className}
          disabled={pending}
          data-testid={`consent-${decision}`}
        >
          {choice === decision ? t(pendingLabel) : t(decision)}
        </button>
      ))}
    </div>
  );
}

export function ConsentForm({ request, ticket, signInAgainHref }: ConsentFormProps) {
  const t = useTranslations("DesktopLogin.consent");
  const [failure, action] = useActionState<ConsentFailure | null, FormData>(
    decideDesktopLogin,
    null,
  );
  return (
    <form action={action} className={styles.form} data-testid="consent-form">
      {Object.entries(request).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <input type="hidden" name="ticket" value={ticket} />
      {failure ? (
        <div className="alert alert--error" role="alert" data-testid={`consent-${failure.error}`}>
          <p>
            {failure.error === "signed_out" ? (
              <>
                {t("signedOut")} <a href={signInAgainHref}>{t("signInAgain")}</a>
              </>
            ) : (
              t("expired")
            )}
          </p>
        </div>
      ) : null}
      <DecisionButtons />
    </form>
  );
}
