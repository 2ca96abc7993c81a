import type { ChorusApi } from "../shared/api.js";

declare global {
  interface Window {
    /** The preload bridge; the renderer's only way to the engine. */
    readonly chorus: ChorusApi;
  }
}
