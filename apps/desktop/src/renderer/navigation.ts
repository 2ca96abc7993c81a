import { useQuery } from "@tanstack/react-query";
import { createContext, useContext } from "react";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "./bridge.js";

export type Page = "library" | "settings" | "diagnostics";

export const NavigateContext = createContext<(page: Page) => void>(() => {});

/** Opens a page (the status bar's and banner's actions lead to Settings or Diagnostics). */
export function useNavigate() {
  return useContext(NavigateContext);
}

/** The engine's diagnostics, re-read every second: the header, banner and Diagnostics share it. */
export function useDiagnostics() {
  return useQuery({
    queryKey: queryKeys.diagnostics,
    queryFn: () => unwrap(window.chorus.getDiagnostics()),
    refetchInterval: LIVE_REFETCH_MS,
  });
}
