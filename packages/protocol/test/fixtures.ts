import type { OpInput, SyncOp } from "../src/index.js";

let counter = 0;

/** A fresh, valid UUID v4 whose digits count up, so failures are easy to read. */
export function uuid(n = ++counter): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export const DEVICE_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
export const DEVICE_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

export function opInput(overrides: Partial<OpInput> = {}): OpInput {
  return {
    operationId: uuid(),
    lamportTs: 1,
    entity: "track",
    entityId: uuid(),
    field: "title",
    op: "set",
    value: "Blue in Green",
    ...overrides,
  };
}

export function syncOp(overrides: Partial<SyncOp> = {}): SyncOp {
  return {
    id: 1,
    deviceId: DEVICE_A,
    createdAt: "2025-01-01T00:00:00.000Z",
    ...opInput(),
    ...overrides,
  };
}

/** The messages of a failed parse, for assertions that read like the error a user sees. */
export function messagesOf(result: {
  success: boolean;
  error?: { issues: Array<{ message: string }> };
}): string[] {
  if (result.success) throw new Error("expected the parse to fail");
  return result.error?.issues.map((issue) => issue.message) ?? [];
}
