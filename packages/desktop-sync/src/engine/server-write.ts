import { isCryptoError } from "@chorus/crypto";
import type { OpInput } from "@chorus/protocol";
import { EngineError } from "../errors.js";
import type { LibraryState } from "../library-state.js";
import { dryRunWrite } from "../sdk/write.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { callBudget, callServer, keyChanged, unanswered } from "../sync/call-server.js";
import { failureCode, type SyncFailure } from "../sync/failure.js";
import type { SyncSession } from "../sync/session.js";
import type { SyncLoop } from "../sync/sync-loop.js";

/** An app's write: plain SQL on the engine's connection; the capture triggers make its ops. */
export type Mutation<T> = (db: SqliteDatabase) => T;

/** Re-stamps when a server-connected write meets a Lamport regression. */
const MAX_RESTAMPS = 2;
/** Sends of the same server-connected write without an answer before it is reported. */
const MAX_UNANSWERED_PUSHES = 4;
/** Wait before re-sending an unanswered write, times the number of sends so far. */
const UNANSWERED_RETRY_MS = 250;

export interface ServerWriteDeps {
  session: SyncSession | null;
  loop: SyncLoop | null;
  library: LibraryState | null;
  recordFailure(failure: SyncFailure): void;
  /** The server accepted the write and this device folded it. */
  onWritten(): void;
  revokedError(): EngineError;
  /** The op as it is pushed (sealed when the account encrypts); may throw an EngineError. */
  seal?(op: OpInput): OpInput;
  /** The server refused the write because the account's key changed (ADR 0026). */
  onKeyChanged?(failure: SyncFailure): void;
}

/** Server-connected mode: the server must accept the edit before this device shows it. */
export async function writeThroughServer<T>(deps: ServerWriteDeps, edit: Mutation<T>): Promise<T> {
  const { session, loop, library } = deps;
  if (!session || !loop || !library) {
    throw new EngineError(
      "not_signed_in",
      "server-connected mode needs an account: sign in, or switch to Local or Hybrid",
      {},
    );
  }
  if (!(await loop.whenLoaded())) throw offline("the library could not be loaded from the server");
  // The edit runs against the server's state and is rolled back: what it captured is
  // pushed, and folded (rows written) once the server accepted it.
  const { drafts, result } = dryRunWrite(library.db, edit);
  // Stamped once. A push that got no answer (a timeout, a cut connection, a 5xx) may have
  // been stored: it is re-sent under the SAME operation ids, which the server answers as
  // duplicates with the stored ids, so a lost answer never turns into a second entity. Only
  // a refusal that stored nothing (a Lamport regression, a 401) gets fresh stamps.
  // Sealed after every stamp (the seal binds the operation id and the Lamport stamp), before
  // the call, so a value that cannot be sealed is refused here rather than taken for offline.
  const seal = (stamped: OpInput[]): OpInput[] => {
    if (!deps.seal) return stamped;
    try {
      return stamped.map((op) => deps.seal?.(op) ?? op);
    } catch (error) {
      if (isCryptoError(error)) {
        throw new EngineError("invalid_input", `this change cannot be sealed: ${error.message}`, {
          code: error.code,
        });
      }
      throw error;
    }
  };
  let ops = drafts.map((draft) => library.stamp(draft));
  let sealed = seal(ops);
  const restamp = () => {
    ops = drafts.map((draft) => library.stamp(draft));
    sealed = seal(ops);
  };
  const outcome = await callServer(
    () => loop.push(sealed),
    {
      tokenRejected: () => session.tokenRejected(),
      restamp: (storedMax) => {
        library.clock.observe(storedMax);
        restamp();
      },
      afterRefresh: restamp,
      resendUnanswered: { waitMs: UNANSWERED_RETRY_MS },
      onFailure: (failure) => deps.recordFailure(failure),
    },
    callBudget({
      restamps: MAX_RESTAMPS,
      refreshes: 1,
      resends: MAX_UNANSWERED_PUSHES - 1,
    }),
  );
  if (outcome.ok) {
    library.db.transaction(() => {
      for (const op of ops) library.foldOwn(op);
    })();
    deps.onWritten();
    return result;
  }
  const { failure, verdict } = outcome;
  if (verdict === "revoked") throw deps.revokedError();
  if (keyChanged(failure)) {
    // Nothing was stored and nothing is shown: the device reads the key state again.
    deps.onKeyChanged?.(failure);
    throw new EngineError(
      "key_changed",
      "the account's encryption key was changed on another device, so this change was not made: enter the new encryption password on this device if it asks, then make the change again",
      { code: failureCode(failure) },
    );
  }
  if (unanswered(failure)) throw offline(failure.message);
  if (verdict === "update_required") {
    throw new EngineError("update_required", `update required: ${failure.message}`, {
      code: failureCode(failure),
    });
  }
  throw new EngineError("server_refused", `the server refused the change: ${failure.message}`, {
    code: failureCode(failure),
  });
}

function offline(detail: string): EngineError {
  return new EngineError(
    "offline",
    `server-connected mode: the server cannot be reached or did not answer, so the change may not have been made (${detail}). If it was, it shows up in the library once the server answers; otherwise try again when online, or switch to Hybrid to edit offline.`,
    {},
  );
}
