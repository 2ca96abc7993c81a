import { createChorusApi } from "../shared/api.js";
import type { IpcResult } from "../shared/ipc-channels.js";

/**
 * The dev harness's bridge: the same API as the preload, carried over fetch to the harness
 * server (POST /api/<channel>), which runs the real engine with the same handlers.
 */
export function createHttpBridge(base = "") {
  return createChorusApi(async (channel, payload) => {
    const response = await fetch(`${base}/api/${encodeURIComponent(channel)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload === undefined ? "" : JSON.stringify(payload),
    });
    if (!response.ok) {
      return {
        ok: false,
        error: { code: "internal", message: `the harness answered HTTP ${response.status}` },
      } satisfies IpcResult<never>;
    }
    return response.json();
  });
}
