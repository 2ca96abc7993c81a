import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { I18nProvider } from "./i18n.js";
import { PreferencesProvider } from "./preferences.js";
import "./styles.css";

const queryClient = new QueryClient({
  // Bridge calls are local; a failure is an answer (shown to the user), not a flaky network.
  defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
});

const container = document.getElementById("root");
if (!container) throw new Error("index.html has no #root element");

createRoot(container).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <PreferencesProvider>
        <I18nProvider>
          <App />
        </I18nProvider>
      </PreferencesProvider>
    </QueryClientProvider>
  </StrictMode>,
);
