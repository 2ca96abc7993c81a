import { PerformanceObserver } from "node:perf_hooks";
import { WebSocket } from "ws";
import { wallClockMs } from "../progress.js";

/**
 * Wall-clock stamps of section 5's edits as they cross this process's WebSockets, so that a
 * slow edit can be attributed to the stretch of its path where the time went. Every `ws`
 * socket of the process (the engine's wsLink, the server's tRPC adapter) is watched: a frame
 * sent or received whose text names `bench edit <k>` stamps edit k under `<prefix>sent` or
 * `<prefix>received` (the first time only); a tRPC answer to a sent request that named an edit
 * stamps it under `<prefix>answered`. Also kept: this process's garbage-collection pauses, so
 * that a slow stretch can be matched with a pause of the process it ran in.
 *
 * Only the bench's own child processes call this, and only while section 5 measures: it
 * patches `ws`'s prototype, which is the cost of seeing the frames without touching the code
 * under test.
 */
export interface TraceDump {
  /** Phase -> wall-clock ms by edit index (null: not seen). */
  stamps: Record<string, (number | null)[]>;
  /** Pauses of this process's garbage collector: wall-clock start and duration, ms. */
  gc: Array<{ at: number; ms: number }>;
}

const EDIT = /bench edit (\d+)/;
const REQUEST_ID = /^\s*\{\s*"id"\s*:\s*(\d+)/;

export interface Tracer {
  /** Stamps edit k under `phase` now (first stamp wins). */
  stamp(phase: string, k: number, at?: number): void;
  /** Forgets every stamp; `edits` is the number of edits of the next series. */
  reset(edits: number): void;
  dump(): TraceDump;
}

export function traceSockets(prefix: string): Tracer {
  let edits = 0;
  let stamps = new Map<string, Float64Array>();
  let gc: Array<{ at: number; ms: number }> = [];
  /** tRPC request id -> the edits its sent frame named. */
  const requests = new Map<number, number[]>();

  const stamp = (phase: string, k: number, at = wallClockMs()) => {
    if (k < 0 || k >= edits) return;
    let row = stamps.get(phase);
    if (!row) {
      row = new Float64Array(edits).fill(Number.NaN);
      stamps.set(phase, row);
    }
    if (Number.isNaN(row[k] as number)) row[k] = at;
  };
  const editsIn = (text: string): number[] => {
    const found: number[] = [];
    const pattern = new RegExp(EDIT.source, "g");
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      found.push(Number(match[1]));
    }
    return found;
  };
  const textOf = (data: unknown): string | null => {
    if (typeof data === "string") return data;
    if (Buffer.isBuffer(data)) return data.toString("utf8");
    if (Array.isArray(data)) return Buffer.concat(data as Buffer[]).toString("utf8");
    if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
    return null;
  };

  const proto = WebSocket.prototype as unknown as {
    send(data: unknown, ...rest: unknown[]): void;
    emit(event: string | symbol, ...args: unknown[]): boolean;
  };
  const send = proto.send;
  const emit = proto.emit;
  proto.send = function tracedSend(this: unknown, data: unknown, ...rest: unknown[]) {
    if (edits > 0) {
      const at = wallClockMs();
      const text = textOf(data);
      if (text) {
        const named = editsIn(text);
        for (const k of named) stamp(`${prefix}sent`, k, at);
        const id = named.length > 0 ? REQUEST_ID.exec(text) : null;
        if (id) requests.set(Number(id[1]), named);
      }
    }
    return send.call(this, data, ...rest);
  };
  proto.emit = function tracedEmit(this: unknown, event: string | symbol, ...args: unknown[]) {
    if (event === "message" && edits > 0) {
      const at = wallClockMs();
      const text = textOf(args[0]);
      if (text) {
        for (const k of editsIn(text)) stamp(`${prefix}received`, k, at);
        const id = requests.size > 0 ? REQUEST_ID.exec(text) : null;
        const named = id ? requests.get(Number(id[1])) : undefined;
        if (id && named) {
          requests.delete(Number(id[1]));
          for (const k of named) stamp(`${prefix}answered`, k, at);
        }
      }
    }
    return emit.call(this, event, ...args);
  };

  const observer = new PerformanceObserver((list) => {
    if (edits === 0) return;
    for (const entry of list.getEntries()) {
      gc.push({ at: performance.timeOrigin + entry.startTime, ms: entry.duration });
    }
  });
  observer.observe({ entryTypes: ["gc"] });

  return {
    stamp,
    reset(next) {
      edits = next;
      stamps = new Map();
      gc = [];
      requests.clear();
    },
    dump() {
      const out: Record<string, (number | null)[]> = {};
      for (const [phase, row] of stamps) {
        out[phase] = Array.from(row, (at) => (Number.isNaN(at) ? null : at));
      }
      return { stamps: out, gc };
    },
  };
}
