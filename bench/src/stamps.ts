import { distribution, type LatencyDistribution, type LatencySummary, summarize } from "./stats.js";

/**
 * Latency stamps travel inside the op value (`seq`, `sentAt`, `stampedAt`) and in the
 * delivered op's `createdAt`. They are read from the message text without parsing the whole
 * message, so a thousand clients in one process stay cheap — the same code for the sync
 * server's messages and the baseline's.
 */
export interface Stamps {
  seq: number;
  /** The op's created_at in ms since the epoch (NaN when absent). */
  createdAt: number;
  /** When the push request went out (NaN when absent). */
  sentAt: number;
  /** When the baseline server sent the message (NaN when absent). */
  stampedAt: number;
}

const SEQ = /"seq":(-?\d+)/;
const CREATED_AT = /"createdAt":"([^"]+)"/;
const SENT_AT = /"sentAt":([\d.]+)/;
const STAMPED_AT = /"stampedAt":([\d.]+)/;

/** The stamps of a tRPC subscription data message; null for anything else. */
export function stampsOf(message: string): Stamps | null {
  if (!message.includes('"type":"data"')) return null;
  const seq = SEQ.exec(message)?.[1];
  if (seq === undefined) return null;
  const createdAt = CREATED_AT.exec(message)?.[1];
  return {
    seq: Number(seq),
    createdAt: createdAt ? Date.parse(createdAt) : Number.NaN,
    sentAt: Number(SENT_AT.exec(message)?.[1] ?? Number.NaN),
    stampedAt: Number(STAMPED_AT.exec(message)?.[1] ?? Number.NaN),
  };
}

/** A bounded store of latency samples (ms); NaN samples are not kept. */
export class Samples {
  private readonly values: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  add(value: number): void {
    if (Number.isNaN(value) || this.count >= this.values.length) return;
    this.values[this.count++] = value;
  }

  summary(): LatencySummary {
    return summarize(this.values.subarray(0, this.count));
  }

  distribution(): LatencyDistribution {
    return distribution(this.values.subarray(0, this.count));
  }
}
