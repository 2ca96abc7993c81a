export type { Context } from "./context.js";
export { type AppRouter, appRouter } from "./root.js";
export { createCallerFactory } from "./trpc.js";
