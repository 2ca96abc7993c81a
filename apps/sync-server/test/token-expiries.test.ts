import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ServerSocket, TokenExpiries } from "../src/socket.js";

/** What TokenExpiries reads and writes on a socket: its expiry and its place in the heap. */
function fakeSocket(name: string): ServerSocket {
  return { name, expiresAt: 0, expiryIndex: -1 } as unknown as ServerSocket;
}
const nameOf = (socket: ServerSocket) => (socket as unknown as { name: string }).name;

describe("token expiries (one timer for every socket)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("expires each socket at its token's expiry, not before, earliest first", () => {
    const expired: string[] = [];
    const expiries = new TokenExpiries((socket) => expired.push(nameOf(socket)));
    const now = Date.now();
    expiries.add(fakeSocket("c"), now + 3_000);
    expiries.add(fakeSocket("a"), now + 1_000);
    expiries.add(fakeSocket("b"), now + 2_000);
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["a"]);
    vi.advanceTimersByTime(1_999);
    expect(expired).toEqual(["a", "b"]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["a", "b", "c"]);
    expect(expiries.size).toBe(0);
  });

  it("never expires a socket once removed (it closed), and still expires the others", () => {
    const expired: string[] = [];
    const expiries = new TokenExpiries((socket) => expired.push(nameOf(socket)));
    const first = fakeSocket("first");
    const now = Date.now();
    expiries.add(first, now + 1_000);
    expiries.add(fakeSocket("second"), now + 2_000);
    expiries.remove(first);
    expiries.remove(first);
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual(["second"]);
  });

  it("expires at once a token that expired before it was added", () => {
    const expired: string[] = [];
    const expiries = new TokenExpiries((socket) => expired.push(nameOf(socket)));
    expiries.add(fakeSocket("late"), Date.now() - 10);
    vi.advanceTimersByTime(0);
    expect(expired).toEqual(["late"]);
  });

  it("fires nothing after stop", () => {
    const expired: string[] = [];
    const expiries = new TokenExpiries((socket) => expired.push(nameOf(socket)));
    expiries.add(fakeSocket("a"), Date.now() + 1_000);
    expiries.stop();
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual([]);
  });

  it("expires in order whatever the adds and removes before (heap against a sorted list)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ add: fc.integer({ min: 1, max: 50 }) }),
            fc.record({ remove: fc.nat() }),
          ),
          { maxLength: 80 },
        ),
        (steps) => {
          vi.setSystemTime(1_000_000);
          const expired: ServerSocket[] = [];
          const expiries = new TokenExpiries((socket) => expired.push(socket));
          const live: ServerSocket[] = [];
          for (const [index, step] of steps.entries()) {
            if ("add" in step) {
              const socket = fakeSocket(String(index));
              expiries.add(socket, Date.now() + step.add * 10);
              live.push(socket);
            } else if (live.length > 0) {
              const [socket] = live.splice(step.remove % live.length, 1);
              expiries.remove(socket as ServerSocket);
            }
          }
          vi.advanceTimersByTime(1_000);
          expect(expiries.size).toBe(0);
          expect(new Set(expired)).toEqual(new Set(live));
          const times = expired.map((socket) => socket.expiresAt);
          expect(times).toEqual([...times].sort((a, b) => a - b));
        },
      ),
    );
  });
});
