import { waitUntil } from "@chorus/testing";
import { TRPCClientError } from "@trpc/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LibraryState } from "../library-state.js";
import {
  fakeSubscriptionClient,
  openTempProfile,
  quietSubscriber,
  remotePlaylistOp as remoteOp,
} from "../test-support.js";
import type { SyncClient } from "./client.js";

let fixture: ReturnType<typeof openTempProfile>;
let library: LibraryState;
beforeEach(() => {
  fixture = openTempProfile();
  ({ library } = fixture);
});
afterEach(() => fixture.dispose());

/** A subscription that delivers what the test hands it, and an ACK that fails `failures` times. */
function fakeClient(failures: number, failure: () => Error = () => new TypeError("fetch failed")) {
  const acked: number[] = [];
  let attempts = 0;
  const { client, feed } = fakeSubscriptionClient(async (lastSeenId) => {
    attempts += 1;
    if (attempts <= failures) throw failure();
    acked.push(lastSeenId);
  });
  return { client, feed, acked, attempts: () => attempts };
}

/** A subscriber that ACKs at once after each apply and retries on `backoff`. */
function subscriberOver(client: SyncClient, backoff: { baseMs: number; maxMs: number }) {
  return quietSubscriber({ client, library, backoff });
}

describe("the subscriber's ACK", () => {
  it("is sent again after it failed, with no new op to carry it (a lost ACK kept the device behind on the server until its next op)", async () => {
    const { client, feed, acked, attempts } = fakeClient(2);
    const subscriber = subscriberOver(client, { baseMs: 10, maxMs: 50 });
    subscriber.start();
    feed.deliver?.(remoteOp(1));
    await waitUntil("the ACK of op 1 arrived", () => acked.includes(1));
    expect(attempts()).toBe(3);
    await subscriber.stop();
  });

  it("is not sent again once the subscriber stopped", async () => {
    const { client, feed, attempts } = fakeClient(Number.POSITIVE_INFINITY);
    const subscriber = subscriberOver(client, { baseMs: 10, maxMs: 20 });
    subscriber.start();
    feed.deliver?.(remoteOp(1));
    await waitUntil("a first ACK attempt", () => attempts() >= 1);
    await subscriber.stop();
    const after = attempts();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts()).toBe(after);
  });

  it("is not sent again when the server refused it for good (a 400 stays a 400)", async () => {
    const refused = () =>
      new TRPCClientError("BAD_REQUEST", {
        result: {
          error: {
            message: "BAD_REQUEST",
            code: -32600,
            data: { code: "BAD_REQUEST", httpStatus: 400 },
          },
        },
      });
    const { client, feed, attempts } = fakeClient(Number.POSITIVE_INFINITY, refused);
    const subscriber = subscriberOver(client, { baseMs: 10, maxMs: 20 });
    subscriber.start();
    feed.deliver?.(remoteOp(1));
    await waitUntil("a first ACK attempt", () => attempts() >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts()).toBe(1);
    await subscriber.stop();
  });
});
