import { memoryTokenStore } from "../auth/token-store.js";
import { DeviceEngine, type EngineOptions } from "../engine.js";
import { createProfile } from "../profiles.js";
import type { SyncTiming } from "../sync/sync-loop.js";
import { makeTempDir } from "../test-support.js";

/** Fast retries so failure tests finish in seconds; the production defaults are in sync-loop.ts. */
export const FAST_TIMING: SyncTiming = {
  tickMs: 1_000,
  backoff: { baseMs: 100, maxMs: 800 },
  reconnectBackoff: { baseMs: 100, maxMs: 600 },
  ackDebounceMs: 100,
  requestTimeoutMs: 5_000,
  poll: { intervalMs: 500, maxMs: 2_000 },
};

/** Real engines on real SQLite files in one temp dir; closed and removed by close(). */
export class EngineFleet {
  private readonly temp = makeTempDir();
  private readonly engines = new Set<DeviceEngine>();

  get dataDir(): string {
    return this.temp.path;
  }

  open(profile: string, options: Partial<EngineOptions> = {}): DeviceEngine {
    try {
      createProfile(this.temp.path, profile);
    } catch {
      // reopening an existing profile
    }
    const engine = DeviceEngine.open({
      dataDir: this.temp.path,
      profile,
      tokenStore: memoryTokenStore(),
      timing: FAST_TIMING,
      ...options,
    });
    this.engines.add(engine);
    const close = engine.close.bind(engine);
    engine.close = async () => {
      this.engines.delete(engine);
      await close();
    };
    return engine;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.engines].map((engine) => engine.close()));
    this.temp.remove();
  }
}
