/*
 * Lag over time, as this browser saw it: every live update that refetches a page of devices
 * adds one sample per listed device. Nothing is stored on the server; the history starts
 * when the console is opened and ends when it is closed.
 */

export interface LagSample {
  /** When the sample was taken (ms since the epoch). */
  at: number;
  ops: number;
  ms: number;
}

export interface DeviceLagSeries {
  deviceId: string;
  name: string;
  samples: LagSample[];
}

export interface LagReading {
  id: string;
  name: string;
  lagOps: number;
  lagMs: number;
}

/** Samples kept per device: the oldest go first (about an hour at one update a second). */
export const MAX_SAMPLES_PER_DEVICE = 3_600;

export class LagHistory {
  private readonly series = new Map<string, DeviceLagSeries>();
  private version = 0;
  private readonly listeners = new Set<() => void>();

  /** Adds one sample per device read at `at`; a repeat of the same reading time is ignored. */
  record(readings: readonly LagReading[], at: number): void {
    let changed = false;
    for (const reading of readings) {
      let series = this.series.get(reading.id);
      if (!series) {
        series = { deviceId: reading.id, name: reading.name, samples: [] };
        this.series.set(reading.id, series);
      }
      series.name = reading.name;
      const last = series.samples.at(-1);
      if (last && last.at >= at) continue;
      series.samples.push({ at, ops: reading.lagOps, ms: reading.lagMs });
      if (series.samples.length > MAX_SAMPLES_PER_DEVICE) series.samples.shift();
      changed = true;
    }
    if (!changed) return;
    this.version++;
    for (const listener of this.listeners) listener();
  }

  /** The series of these devices, in the order given (devices never sampled are left out). */
  of(deviceIds: readonly string[]): DeviceLagSeries[] {
    return deviceIds.flatMap((id) => {
      const series = this.series.get(id);
      return series ? [series] : [];
    });
  }

  /** For useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;
}
