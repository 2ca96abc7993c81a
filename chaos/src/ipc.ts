import type { OpInput } from "@chorus/protocol";

/** An op a device committed locally, as the harness records it for the final fold. */
export type RecordedOp = OpInput & { deviceId: string };

/** Harness -> device process. */
export type ParentMessage =
  | { t: "edit"; id: number; r: number[] }
  | { t: "status"; id: number }
  | { t: "token"; id: number; token: string }
  | { t: "skew"; ms: number }
  | { t: "stop"; id: number }
  | { t: "rebind"; id: number; deviceId: string };

export interface DeviceStatus {
  pendingCount: number;
  cursor: number;
  connection: string;
  lamport: number;
  lastError: string | null;
  revokedAt: string | null;
}

/** Device process -> harness. */
export type ChildMessage =
  | { t: "ready" }
  | { t: "edited"; id: number; kind: string; ops: RecordedOp[]; error?: string }
  | ({ t: "status"; id: number } & DeviceStatus)
  | { t: "need-token"; id: number }
  | { t: "token-rejected" }
  | { t: "resync" }
  | { t: "log"; line: string }
  | { t: "stopped"; id: number }
  | { t: "rebound"; id: number; outcome: string };
