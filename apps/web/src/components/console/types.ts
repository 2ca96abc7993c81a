import type { AppRouter } from "@chorus/api";

export type { CompactionProgress } from "@chorus/api";

import type { inferInput, inferOutput, TRPCOptionsProxy } from "@trpc/tanstack-react-query";

/** Shapes of the sync server's admin procedures, inferred from the router type. */
type Admin = TRPCOptionsProxy<AppRouter>["admin"];

export type UsersPage = inferOutput<Admin["users"]>;
export type UserRow = UsersPage["rows"][number];
export type DevicesInput = Exclude<inferInput<Admin["devices"]>, undefined>;
export type DevicesPage = inferOutput<Admin["devices"]>;
export type DeviceRow = DevicesPage["rows"][number];
export type DeviceSort = NonNullable<DevicesInput["sort"]>;
export type DeviceStatus = NonNullable<DevicesInput["status"]>;
export type SortDirection = NonNullable<DevicesInput["direction"]>;
export type UserDetail = NonNullable<inferOutput<Admin["user"]>>;
export type CompactionRun = inferOutput<Admin["compactionRuns"]>[number];
export type CompactionResult = inferOutput<Admin["runCompaction"]>;
