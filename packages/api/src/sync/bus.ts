import { EventEmitter, on } from "node:events";
import type { SyncOp } from "@chorus/protocol";

/**
 * The fan-out bus: after a push commits, its ops are published for the user's live
 * subscribers; control events (a device revoked) reach every replica. In-process by default;
 * a Redis implementation of the same interface spans replicas.
 */
export interface OpsEvent {
  userId: string;
  /** The user's newest op id before this batch: a subscriber whose cursor equals it can apply
   * the batch directly; a larger value means it missed something and must read the database. */
  afterId: number;
  /** The batch's new ops, ascending by id. */
  ops: SyncOp[];
}

export type ControlEvent =
  | { type: "device_revoked"; userId: string; deviceId: string }
  | { type: "flush_acks"; userId: string | null; requestId: string };

export interface Bus {
  publishOps(event: OpsEvent): Promise<void>;
  /** Starts buffering at call time: call before backfilling so nothing falls in between. */
  subscribeOps(userId: string, signal: AbortSignal): AsyncIterable<OpsEvent>;
  publishControl(event: ControlEvent): Promise<void>;
  onControl(listener: (event: ControlEvent) => void): () => void;
  close(): Promise<void>;
}

export function createInProcessBus(): Bus {
  const ops = new EventEmitter();
  ops.setMaxListeners(0);
  const control = new EventEmitter();
  control.setMaxListeners(0);

  return {
    async publishOps(event) {
      ops.emit(event.userId, event);
    },
    subscribeOps(userId, signal) {
      const events = on(ops, userId, { signal });
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const [event] of events) yield event as OpsEvent;
          } catch (error) {
            if (!signal.aborted) throw error;
          }
        },
      };
    },
    async publishControl(event) {
      control.emit("event", event);
    },
    onControl(listener) {
      control.on("event", listener);
      return () => control.off("event", listener);
    },
    async close() {
      ops.removeAllListeners();
      control.removeAllListeners();
    },
  };
}
