import { z } from "zod";
import { Cursor, Uuid, wireString } from "./wire.js";

/*
 * What a device reports about itself, so the server can say why it is behind. Sent with each
 * push (the optional `telemetry` of PushInput) and on a slow timer over the WebSocket
 * (`diagnostics.report`). Optional everywhere: a device that sends none keeps working, and the
 * server simply has nothing to say about its queue.
 */

/** Quarantined ops a report lists at most (the count is exact). */
export const MAX_REPORTED_QUARANTINED = 20;

const Text = (max: number, name: string) => wireString(z.string().max(max), name);

/** The device's last sync failure, as a stable code (its failure kind or sync error type). */
export const TelemetryError = z.object({
  code: Text(80, "lastError.code"),
  message: Text(1_000, "lastError.message"),
  /** When the device recorded it (its own clock, ISO 8601). */
  at: z.iso.datetime({ offset: true }),
});
export type TelemetryError = z.infer<typeof TelemetryError>;

/** An op the server refused for good, which the device set aside (it no longer blocks). */
export const TelemetryQuarantinedOp = z.object({
  operationId: Uuid,
  entity: Text(64, "quarantined.entity"),
  entityId: Text(200, "quarantined.entityId"),
  field: Text(64, "quarantined.field").nullable(),
  reason: Text(1_000, "quarantined.reason"),
  at: z.iso.datetime({ offset: true }),
});
export type TelemetryQuarantinedOp = z.infer<typeof TelemetryQuarantinedOp>;

export const DeviceTelemetry = z.object({
  /** Ops waiting in the device's outbox. */
  queueDepth: z.int().nonnegative(),
  /** Age of the oldest waiting op on the device's clock; null when the queue is empty. */
  oldestPendingAgeMs: z.int().nonnegative().nullable(),
  lastError: TelemetryError.nullable(),
  quarantinedCount: z.int().nonnegative(),
  /** The newest quarantined ops, at most MAX_REPORTED_QUARANTINED. */
  quarantined: z.array(TelemetryQuarantinedOp).max(MAX_REPORTED_QUARANTINED),
  /** The position the device has applied up to (its local cursor). */
  cursor: Cursor,
  appVersion: Text(64, "appVersion").min(1),
  protocolVersion: z.int().positive(),
  /** The device's wall clock when it sent this (ms since the epoch); the server measures skew. */
  clock: z.int().nonnegative(),
});
export type DeviceTelemetry = z.infer<typeof DeviceTelemetry>;

export const ReportInput = z.object({ telemetry: DeviceTelemetry });
export type ReportInput = z.infer<typeof ReportInput>;
