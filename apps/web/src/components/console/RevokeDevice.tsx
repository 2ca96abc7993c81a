"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";

/** An administrator revokes a device: asks first, says what it means, then uses the one revoke path. */
export function RevokeDevice({ deviceId, name }: { deviceId: string; name: string }) {
  const t = useTranslations("Diagnosis.revoke");
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation(
    trpc.admin.revokeDevice.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() }),
    }),
  );
  if (!confirming) {
    return (
      <button
        type="button"
        className="button button--small"
        onClick={() => setConfirming(true)}
        data-testid="console-revoke"
      >
        {t("button")}
      </button>
    );
  }
  return (
    <div className={styles.confirm} data-testid="console-revoke-confirm">
      <p>{t("confirm", { name })}</p>
      <div className={styles.confirmActions}>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => setConfirming(false)}
        >
          {t("cancel")}
        </button>
        <button
          type="button"
          className="button button--primary button--small"
          disabled={revoke.isPending}
          onClick={() => revoke.mutate({ deviceId }, { onSuccess: () => setConfirming(false) })}
          data-testid="console-revoke-yes"
        >
          {t("confirmButton")}
        </button>
      </div>
      {revoke.isError ? (
        <p className="field__error" role="alert">
          {t("failed")}
        </p>
      ) : null}
    </div>
  );
}
