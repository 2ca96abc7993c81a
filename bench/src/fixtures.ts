import { randomUUID } from "node:crypto";
import { mintAccessToken, type SigningKey } from "@chorus/auth";
import type { OpInput } from "@chorus/protocol";
import type pg from "pg";

export interface BenchDevice {
  userId: string;
  deviceId: string;
  token: string;
  /** The next Lamport timestamp this device will stamp (strictly increasing). */
  lamport: number;
}

/**
 * `users` users with `devicesPerUser` bound devices each, written straight to the tables (the
 * bench measures sync, not sign-up), and a device token for each device.
 */
export async function seedDevices(
  pool: pg.Pool,
  key: SigningKey,
  users: number,
  devicesPerUser: number,
): Promise<BenchDevice[][]> {
  const userIds = Array.from({ length: users }, () => randomUUID());
  await pool.query(
    `INSERT INTO users (id, email, password_hash, updated_at)
     SELECT id, id::text || '@bench.test', 'bench-has-no-password', now()
       FROM unnest($1::uuid[]) AS u(id)`,
    [userIds],
  );
  const owners = userIds.flatMap((userId) => Array<string>(devicesPerUser).fill(userId));
  const deviceIds = owners.map(() => randomUUID());
  for (let start = 0; start < deviceIds.length; start += 5_000) {
    await pool.query(
      `INSERT INTO devices (id, user_id, name, platform, app_version)
       SELECT d.id, d.user_id, 'bench device', 'linux', 'bench'
         FROM unnest($1::uuid[], $2::uuid[]) AS d(id, user_id)`,
      [deviceIds.slice(start, start + 5_000), owners.slice(start, start + 5_000)],
    );
  }
  const devices: BenchDevice[] = [];
  for (let i = 0; i < deviceIds.length; i++) {
    const userId = owners[i] as string;
    const deviceId = deviceIds[i] as string;
    const { token } = await mintAccessToken(
      key,
      { userId, deviceId, role: "user", kind: "device" },
      // The longest a token may live: no socket is closed for expiry during a run.
      { ttlSeconds: 15 * 60 },
    );
    devices.push({ userId, deviceId, token, lamport: 1 });
  }
  return userIds.map((_, u) => devices.slice(u * devicesPerUser, (u + 1) * devicesPerUser));
}

const FIELDS = ["title", "artist", "album", "rating", "position"];

/** The device's next `count` ops: field sets on one track, with increasing Lamport stamps. */
export function nextOps(
  device: BenchDevice,
  count: number,
  value: (index: number) => OpInput["value"] = (index) => `value ${index}`,
): OpInput[] {
  const entityId = randomUUID();
  const ops: OpInput[] = [];
  for (let i = 0; i < count; i++) {
    ops.push({
      operationId: randomUUID(),
      lamportTs: device.lamport++,
      entity: "track",
      entityId,
      field: FIELDS[i % FIELDS.length] as string,
      op: "set",
      value: value(i),
    });
  }
  return ops;
}
