import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { useTranslations } from "use-intl";
import { Alerts } from "./Alerts.js";
import { queryKeys, unwrap } from "./bridge.js";
import { SignInForm } from "./SignInForm.js";

const DONE_KEY = "chorus.firstRunDone";

function doneBefore(): boolean {
  try {
    return window.localStorage.getItem(DONE_KEY) === "1";
  } catch {
    return false;
  }
}

/**
 * The guide shows on a fresh profile (never signed in, never edited, still in the default
 * mode) until the user picks Local or signs in; a library in use never sees it.
 */
export function useFirstRun() {
  const [done, setDone] = useState(doneBefore);
  const diagnostics = useQuery({
    queryKey: queryKeys.diagnostics,
    queryFn: () => unwrap(window.chorus.getDiagnostics()),
    enabled: !done,
  });
  const d = diagnostics.data;
  const fresh = d !== undefined && d.account === null && d.mode === "hybrid" && d.lamport === 0;
  const markDone = useCallback(() => {
    try {
      window.localStorage.setItem(DONE_KEY, "1");
    } catch {
      // Without storage the guide may show again on a fresh profile: harmless.
    }
    setDone(true);
  }, []);
  // A profile in use (signed in — however the guide was left —, edited, or in another mode)
  // ends the first run for good: a profile created later does not bring the guide back.
  useEffect(() => {
    if (d !== undefined && !fresh && !done) markDone();
  }, [d, fresh, done, markDone]);
  return { show: !done && fresh, done: markDone };
}

export function FirstRun({ onDone }: { onDone(): void }) {
  const t = useTranslations("Desktop.firstRun");
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: queryKeys.settings,
    queryFn: () => unwrap(window.chorus.getSettings()),
    refetchInterval: 1_000,
  });
  const local = useMutation({
    mutationFn: () => unwrap(window.chorus.setMode({ mode: "local" })),
    onSuccess: async () => {
      await queryClient.invalidateQueries();
      onDone();
    },
  });

  return (
    <section className="first-run" aria-labelledby="first-run-title" data-testid="first-run">
      <h1 id="first-run-title" tabIndex={-1}>
        {t("title")}
      </h1>
      <p>{t("intro")}</p>
      <div className="choices">
        <section className="card" aria-labelledby="first-run-sync">
          <h2 id="first-run-sync">{t("syncTitle")}</h2>
          <p className="muted">{t("syncBody")}</p>
          {settings.data && <SignInForm settings={settings.data} onSignedIn={onDone} />}
        </section>
        <section className="card" aria-labelledby="first-run-local">
          <h2 id="first-run-local">{t("localTitle")}</h2>
          <p className="muted">{t("localBody")}</p>
          <button type="button" onClick={() => local.mutate()} disabled={local.isPending}>
            {t("useLocal")}
          </button>
          <Alerts errors={[local.error]} />
        </section>
      </div>
    </section>
  );
}
