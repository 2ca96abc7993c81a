"use client";

import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { DiagnosisFacts, VerdictList } from "@/components/diagnosis/Diagnosis";
import { Panel } from "@/components/ui/Panel";
import { useTRPC } from "@/lib/trpc";
import { ConvergenceAudit } from "./ConvergenceAudit";
import { DeviceLagHistory } from "./DeviceLagHistory";
import { QueryState } from "./QueryProblem";
import { RevokeDevice } from "./RevokeDevice";

/**
 * "Why is this device behind?" for one device: the sync server's verdicts (plain language,
 * the headline first) and the facts they come from. Refetched with every live update.
 */
export function ExplainPanel({
  deviceId,
  onClose,
  signInHref,
}: {
  deviceId: string;
  onClose: () => void;
  signInHref: string;
}) {
  const t = useTranslations("Diagnosis");
  const locale = useLocale();
  const trpc = useTRPC();
  const diagnosis = useQuery(trpc.admin.explainDevice.queryOptions({ deviceId }));
  const name = diagnosis.data?.name;
  return (
    <Panel
      title={name ? t("explainLabel", { name }) : t("title")}
      subtitle={diagnosis.data?.email}
      testId="console-explain"
      data={{ "device-id": deviceId }}
      actions={
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={onClose}
          data-testid="console-explain-close"
        >
          {t("close")}
        </button>
      }
    >
      <QueryState query={diagnosis} signInHref={signInHref}>
        {(d) => (
          <>
            <VerdictList
              verdicts={d.verdicts}
              testId="console-verdicts"
              runbookHref={(anchor) => `/${locale}/console/runbooks#${anchor}`}
            />
            <DiagnosisFacts diagnosis={d} />
            <DeviceLagHistory deviceId={d.deviceId} name={d.name} />
            <ConvergenceAudit deviceId={d.deviceId} />
            {d.revokedAt ? null : <RevokeDevice deviceId={d.deviceId} name={d.name} />}
          </>
        )}
      </QueryState>
    </Panel>
  );
}
