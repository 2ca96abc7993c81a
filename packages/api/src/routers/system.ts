import { publicProcedure } from "../trpc.js";

export const systemRouter = {
  /** Liveness of the API and its database, for clients deciding whether to go online. */
  health: publicProcedure.query(async ({ ctx }) => {
    await ctx.services.prisma.$queryRaw`SELECT 1`;
    return { ok: true as const };
  }),
};
