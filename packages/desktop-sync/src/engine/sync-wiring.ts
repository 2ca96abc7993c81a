import type { DeviceTelemetry, SyncOp } from "@chorus/protocol";
import type { ConnectionState, ResyncProgress, SyncMode } from "../contract.js";
import type { LibraryState } from "../library-state.js";
import type { SyncClient } from "../sync/client.js";
import type { SyncFailure } from "../sync/failure.js";
import type { SyncSession } from "../sync/session.js";
import { SyncLoop, type SyncTiming } from "../sync/sync-loop.js";
import type { KeyNeededError, OpCipher } from "./encryption.js";

/** What the engine does when its sync loop reports something. */
export interface LoopEvents {
  /** Changes moved to or from the server (shown as "Synced · …"). */
  markSynced(): void;
  remoteOps(ops: SyncOp[]): void;
  connection(state: ConnectionState): void;
  failure(failure: SyncFailure): void;
  /** The queue changed without a local edit (pushed, quarantined). */
  status(): void;
  resyncProgress(progress: ResyncProgress | null): void;
  /** A full resync finished (the library was rebuilt from the server). */
  resynced?(): void;
  /** The server's answer to a telemetry report asked this device for a convergence audit. */
  auditRequested?(): void;
  /** The account encrypts and this device lacks the key: nothing moves until it is unlocked. */
  locked(): void;
  /** A received value needs a key this device does not hold. */
  keyNeeded(error: KeyNeededError): void;
  /** The server refused a push because the account's key changed (ADR 0026). */
  keyChanged(failure: SyncFailure): void;
  log(message: string, context?: Record<string, unknown>): void;
}

/**
 * The network side for one mode: Hybrid drains the durable queue and follows the server;
 * server-connected mode loads the state first and pushes each edit itself.
 */
export function createSyncLoop(options: {
  mode: Exclude<SyncMode, "local">;
  session: SyncSession;
  library: LibraryState;
  timing: SyncTiming;
  protocolVersion: number | undefined;
  /** Pushes, ACKs and telemetry on the socket (true) or over HTTP (EngineOptions). */
  callsOverSocket: boolean;
  /** What the device says about itself, sent with each push and on a slow timer. */
  telemetry?: () => DeviceTelemetry;
  /** Seals and opens values (an encrypted account), after learning the key state. */
  cipher: OpCipher;
  prepareKeys(client: SyncClient): Promise<"ready" | "locked">;
  /** A push refused for its key waits to be re-stamped (see SyncLoopDeps.keyChange). */
  keyChange: { pending(): boolean; done(): void };
  events: LoopEvents;
}): SyncLoop {
  const { mode, events } = options;
  return new SyncLoop({
    session: options.session,
    library: options.library,
    withDrain: mode === "hybrid",
    loadFirst: mode === "server",
    timing: options.timing,
    ...(options.protocolVersion !== undefined ? { protocolVersion: options.protocolVersion } : {}),
    callsOverSocket: options.callsOverSocket,
    onRemoteOps: (ops) => {
      events.markSynced();
      events.remoteOps(ops);
    },
    onState: (state) => {
      // Polling: a pull was just answered, so this device is as current as the server was.
      if (state === "connected" || state === "polling") events.markSynced();
      events.connection(state);
    },
    onFailure: (failure) => events.failure(failure),
    onPushed: () => {
      events.markSynced();
      events.status();
    },
    onQuarantined: (ops) => {
      for (const { op, reason } of ops) {
        events.log("the server refused a change for good; it is set aside (quarantined)", {
          operationId: op.operationId,
          entity: op.entity,
          entityId: op.entityId,
          reason,
        });
      }
      events.status();
    },
    onResyncProgress: (progress) => events.resyncProgress(progress),
    onResynced: () => events.resynced?.(),
    onAuditRequested: () => events.auditRequested?.(),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    cipher: options.cipher,
    prepareKeys: options.prepareKeys,
    onLocked: () => events.locked(),
    onKeyNeeded: (error) => events.keyNeeded(error),
    onKeyChanged: (failure) => events.keyChanged(failure),
    keyChange: options.keyChange,
    log: events.log,
  });
}
