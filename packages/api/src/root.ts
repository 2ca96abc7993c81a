import { adminRouter } from "./routers/admin.js";
import { devicesRouter } from "./routers/devices.js";
import { diagnosticsRouter } from "./routers/diagnostics.js";
import { keysRouter } from "./routers/keys.js";
import { syncRouter } from "./routers/sync.js";
import { systemRouter } from "./routers/system.js";
import { router } from "./trpc.js";

export const appRouter = router({
  system: systemRouter,
  sync: router(syncRouter),
  devices: router(devicesRouter),
  admin: router(adminRouter),
  diagnostics: router(diagnosticsRouter),
  keys: router(keysRouter),
});

export type AppRouter = typeof appRouter;
