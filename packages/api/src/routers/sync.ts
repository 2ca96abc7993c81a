import {
  AckInput,
  PullInput,
  parsePushInput,
  SubscribeInput,
  type SyncOp,
  SyncProtocolError,
  syncError,
} from "@chorus/protocol";
import { type TrackedEnvelope, tracked } from "@trpc/server";
import type { Services } from "../context.js";
import { publishCommitted } from "../sync/bus.js";
import {
  BACKFILL_PAGE,
  isFanoutSocket,
  SLOW_CONSUMER_CLOSE_CODE,
  type Subscriber,
} from "../sync/fanout.js";
import { newestOpId, pushOps, readPage } from "../sync/ops-store.js";
import { deviceProcedure, toTRPCError } from "../trpc.js";

export { SLOW_CONSUMER_BUFFER_BYTES, SLOW_CONSUMER_CLOSE_CODE } from "../sync/fanout.js";

/**
 * What a handed-off subscription does when it ends: releases its slot on the socket and writes
 * the device's last-seen moment. Built outside the generator on purpose: a closure made inside
 * it would keep the generator's whole scope alive with the subscription (its abort controller
 * and the aborted signal's reason, an error with a stack trace, among others), about half a KiB
 * per idle socket.
 */
function whenEnded(services: Services, deviceId: string, leave: () => void): () => void {
  return () => {
    leave();
    // A device that stayed subscribed was there until now, however long ago its last write.
    services.lastSeen.touch(deviceId, { force: true });
  };
}

export const syncRouter = {
  /**
   * Stores a batch of the calling device's ops; see pushOps for the order of checks. The input
   * is PushInput, parsed by its fast path for a batch that passes (parsePushInput, ADR 0036).
   */
  push: deviceProcedure.input(parsePushInput).mutation(async ({ ctx, input }) => {
    const { services, device } = ctx;
    await services.limits.consume("push", device.id);
    services.lastSeen.touch(device.id);
    if (input.telemetry) services.diagnostics.record(device, input.telemetry, "push");
    // Before a pooled connection is taken: pushes of one user wait for each other on the
    // user's lock, and each waiting one would hold a connection of the shared pool.
    // A free slot is taken at once, without a promise; a taken one is waited for (ADR 0039).
    // Nothing runs between taking it and the try that gives it back.
    const entered = services.bounds.enterPush(device.userId);
    const release = typeof entered === "function" ? entered : await entered;
    let outcome: Awaited<ReturnType<typeof pushOps>>;
    try {
      outcome = await pushOps(ctx.services.prisma, device.userId, device.id, input.ops);
    } catch (error) {
      if (error instanceof SyncProtocolError) services.metrics.conflict();
      throw error;
    } finally {
      release();
    }
    services.metrics.opsPushed(input.ops.length - outcome.duplicates);
    services.metrics.duplicates(outcome.duplicates);
    // Committed: from here on nothing fails the push. A push of duplicates only is a retry
    // whose first attempt committed but may never have been fanned out (its publish failed,
    // or its server died before publishing): it nudges subscribers behind maxId to the database.
    const event = outcome.event ?? { userId: device.userId, afterId: outcome.maxId, ops: [] };
    await publishCommitted(services.bus, event, (error, attempt) =>
      services.onPublishError(error, { userId: device.userId, attempt }),
    );
    return { results: outcome.results, maxId: outcome.maxId };
  }),

  /** A page of the user's ops after `since`. Never writes a cursor: only ack does. */
  pull: deviceProcedure.input(PullInput).query(async ({ ctx, input }) => {
    const { services, device } = ctx;
    await services.limits.consume("pull", device.id);
    // A full resync's next page is read while the device is busy with this one (ADR 0045).
    const page =
      input.fullResync && services.resyncPages
        ? await services.resyncPages.page(device.userId, input.since, input.limit)
        : await readPage(services.prisma, device.userId, input.since, input.limit, {
            checkWatermark: !input.fullResync,
            maxBytes: services.bounds.settings.pageMaxBytes,
          });
    return {
      ops: page.ops,
      nextSince: page.ops.at(-1)?.id ?? input.since,
      hasMore: page.more,
    };
  }),

  /**
   * The only path that advances a device's cursor. Buffered in memory and written in batches;
   * never moves backwards; refuses ids past the user's newest op.
   */
  ack: deviceProcedure.input(AckInput).mutation(async ({ ctx, input }) => {
    const { services, device } = ctx;
    await services.limits.consume("ack", device.id);
    services.lastSeen.touch(device.id);
    const newestId = await newestOpId(ctx.services.prisma, device.userId);
    if (input.lastSeenId > newestId) {
      throw new SyncProtocolError(syncError("ack_beyond_head", { newestId }));
    }
    const buffered = services.acks.record(device.userId, device.id, input.lastSeenId);
    return { lastSeenId: buffered.lastSeenId };
  }),

  /**
   * Live ops after lastEventId. Subscribes to the bus FIRST, then backfills from the database,
   * so nothing committed in between is lost; ids already yielded are dropped.
   *
   * On the sync server's WebSocket the live part belongs to the server's fan-out
   * (sync/fanout.ts): registered before the backfill, it queues the user's events; once caught
   * up, the subscription yields its Subscriber once (the encoder binds it to this
   * subscription's message id and sends nothing), hands it its cursor and returns. From there
   * the fan-out writes each new op to the socket, encoded once for all the user's sockets, and
   * the socket answers the client's `subscription.stop` (tRPC's "stopped" for the hand-off is
   * not sent: the subscription goes on). An idle subscribed socket then holds a small object,
   * not a suspended generator with tRPC's machinery around it. Without such a socket (an
   * in-process caller) the live ops are yielded one by one, as before.
   */
  subscribe: deviceProcedure.input(SubscribeInput).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const { services, device, socket } = ctx;
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let leave = () => {};
    let fanout: Subscriber | null = null;
    let handedOff = false;
    try {
      await services.limits.consume("subscribe", device.id);
      leave = services.bounds.enterSubscription(socket);
      services.lastSeen.touch(device.id);
      if (isFanoutSocket(socket)) {
        fanout = await services.fanout.open(device.userId, socket, ctx.slowConsumerBytes);
      }
      const events = fanout ? null : await services.bus.subscribeOps(device.userId, abort.signal);
      let cursor = input.lastEventId ?? 0;

      const tooSlow = () => {
        if (!socket || socket.bufferedAmount <= ctx.slowConsumerBytes) return false;
        services.metrics.slowConsumerDisconnected();
        socket.close(SLOW_CONSUMER_CLOSE_CODE, "slow consumer: reconnect with lastEventId");
        return true;
      };
      // First everything after the cursor from the database, page by page; then live batches:
      // one that starts right after what we have is applied as is; a gap (a batch published
      // out of order, or one from before we caught up) sends us back to the database. Only the
      // position the subscriber came with is checked against the watermark: from then on this
      // stream has read in order and holds every surviving op below its cursor. One flat loop
      // (no nested generators): at fan-out every layer is paid once per op per subscriber.
      let checked = false;
      let catchingUp = true;
      const live = events?.[Symbol.asyncIterator]();
      try {
        for (;;) {
          let batch: SyncOp[];
          if (catchingUp) {
            const page = await readPage(ctx.services.prisma, device.userId, cursor, BACKFILL_PAGE, {
              checkWatermark: !checked,
              maxBytes: services.bounds.settings.pageMaxBytes,
            });
            batch = page.ops;
            checked = true;
            catchingUp = page.more;
          } else if (fanout) {
            if (abort.signal.aborted) return;
            // Every op yielded so far is on the socket: tRPC writes a value before it asks for
            // the next one. The encoder binds the Subscriber to this subscription's id.
            yield fanout as unknown as TrackedEnvelope<SyncOp>;
            if (abort.signal.aborted) return;
            // From here the subscription is the fan-out's: it releases the bound slot and
            // writes the last-seen moment when the subscription ends (socket closed, stopped).
            fanout.follow(cursor, whenEnded(services, device.id, leave));
            handedOff = true;
            return;
          } else {
            const next = await (live as AsyncIterator<{ afterId: number; ops: SyncOp[] }>).next();
            if (next.done) return;
            if (next.value.afterId > cursor) {
              catchingUp = true;
              continue;
            }
            batch = next.value.ops;
          }
          for (const op of batch) {
            if (op.id <= cursor) continue;
            if (tooSlow()) return;
            cursor = op.id;
            services.metrics.fanoutDelivered(1);
            yield tracked(String(op.id), op);
          }
        }
      } finally {
        if (!handedOff) fanout?.end();
        await live?.return?.();
      }
    } catch (error) {
      throw toTRPCError(error);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      abort.abort();
      if (!handedOff) {
        leave();
        // A device that stayed subscribed was there until now, however long ago its last write.
        services.lastSeen.touch(device.id, { force: true });
      }
    }
  }),
};
