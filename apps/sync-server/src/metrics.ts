import type { Presence, Services, SyncMetrics } from "@chorus/api";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** Period of the event-loop lag sampling behind the `chorus_nodejs_eventloop_lag_*` gauges. */
export const EVENT_LOOP_MONITORING_MS = 100;

/** Prometheus metrics of one sync-server process, served at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  // The event-loop lag gauges come from a timer of this period (prom-client's default is 10 ms:
  // 100 wake-ups a second, about 0.7% of a core on an otherwise idle server here, ADR 0037). A
  // stall longer than the period always shows; a shorter one shows in proportion to its length.
  collectDefaultMetrics({
    register: registry,
    prefix: "chorus_",
    eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS,
  });

  const opsPushed = new Counter({
    name: "chorus_ops_pushed_total",
    help: "New ops stored by push",
    registers: [registry],
  });
  const duplicates = new Counter({
    name: "chorus_ops_duplicate_total",
    help: "Pushed ops that were already stored (idempotent retries)",
    registers: [registry],
  });
  const conflicts = new Counter({
    name: "chorus_push_conflicts_total",
    help: "Push batches refused with a sync error (lamport_regression)",
    registers: [registry],
  });
  const deliveries = new Counter({
    name: "chorus_fanout_deliveries_total",
    help: "Ops delivered to subscribers",
    registers: [registry],
  });
  const slowConsumers = new Counter({
    name: "chorus_slow_consumer_disconnects_total",
    help: "Subscribers dropped because their socket buffer passed the bound",
    registers: [registry],
  });

  const sync: SyncMetrics = {
    opsPushed: (count) => opsPushed.inc(count),
    duplicates: (count) => duplicates.inc(count),
    conflict: () => conflicts.inc(),
    fanoutDelivered: (count) => deliveries.inc(count),
    slowConsumerDisconnected: () => slowConsumers.inc(),
  };

  /** Gauges read live state when scraped. */
  function observe(services: Services, openSockets: () => number, presence: Presence) {
    new Gauge({
      name: "chorus_open_sockets",
      help: "Open WebSocket connections",
      registers: [registry],
      collect() {
        this.set(openSockets());
      },
    });
    new Gauge({
      name: "chorus_online_devices",
      help: "Devices with at least one open socket on this process",
      registers: [registry],
      collect() {
        this.set(presence.onlineDevices);
      },
    });
    new Gauge({
      name: "chorus_ack_buffer_size",
      help: "Devices with an ACK buffered in memory, not yet written",
      registers: [registry],
      collect() {
        this.set(services.acks.size);
      },
    });
    new Gauge({
      name: "chorus_ack_flush_lag_seconds",
      help: "Age of the oldest buffered ACK not yet written",
      registers: [registry],
      collect() {
        this.set(services.acks.oldestPendingAgeMs() / 1000);
      },
    });
  }

  return { registry, sync, observe };
}
