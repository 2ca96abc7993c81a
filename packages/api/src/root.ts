import { adminRouter } from "./routers/admin.js";
import { devicesRouter } from "./routers/devices.js";
import { syncRouter } from "./routers/sync.js";
import { systemRouter } from "./routers/system.js";
import { router } from "./trpc.js";

export const appRouter = router({
  system: systemRouter,
  sync: router(syncRouter),
  devices: router(devicesRouter),
  admin: router(adminRouter),
});

export type AppRouter = typeof appRouter;
