import { DEVICE_SUMMARY_SELECT } from "@chorus/db";
import { wireString } from "@chorus/protocol";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { revokeDevice } from "../devices/revoke.js";
import { userProcedure } from "../trpc.js";

const DeviceId = z.uuid("deviceId must be a UUID");
const DeviceName = wireString(
  z
    .string()
    .trim()
    .min(1, "a device name cannot be empty")
    .max(80, "a device name is at most 80 characters"),
  "a device name",
);

const deviceFields = DEVICE_SUMMARY_SELECT;

/** The caller's own bound desktop profiles. Another user's device is simply not found. */
export const devicesRouter = {
  list: userProcedure.query(async ({ ctx }) => {
    const devices = await ctx.services.prisma.device.findMany({
      where: { userId: ctx.principal.userId },
      select: deviceFields,
      orderBy: { boundAt: "asc" },
    });
    const online = ctx.services.bus.onlineDevices();
    return devices.map((device) => ({
      ...device,
      online: online.has(device.id),
      current: device.id === ctx.principal.deviceId,
    }));
  }),

  rename: userProcedure
    .input(z.object({ deviceId: DeviceId, name: DeviceName }))
    .mutation(async ({ ctx, input }) => {
      const { count } = await ctx.services.prisma.device.updateMany({
        where: { id: input.deviceId, userId: ctx.principal.userId },
        data: { name: input.name },
      });
      if (count === 0) throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
      return ctx.services.prisma.device.findUniqueOrThrow({
        where: { id: input.deviceId },
        select: deviceFields,
      });
    }),

  /** Ends the device's sessions: its refresh tokens die and its sockets close at once. */
  revoke: userProcedure.input(z.object({ deviceId: DeviceId })).mutation(async ({ ctx, input }) => {
    const ref = { userId: ctx.principal.userId, deviceId: input.deviceId };
    if (!(await revokeDevice(ctx.services, ref))) {
      throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
    }
    return ctx.services.prisma.device.findUniqueOrThrow({
      where: { id: input.deviceId },
      select: deviceFields,
    });
  }),
};
