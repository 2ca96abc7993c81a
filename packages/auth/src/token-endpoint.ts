import { z } from "zod";

/*
 * The answers of the web app's token endpoint, POST /api/desktop/token (ADR 0002): the web app
 * builds them, the desktop engine and the tests parse them. One schema, so the sides cannot
 * disagree about which fields are there.
 */

/** A 200 answer: a new access token and the rotated refresh token, for one bound device. */
export const TokenEndpointResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.literal("Bearer"),
  /** Seconds the access token lives. */
  expires_in: z.number().int().positive(),
  refresh_token: z.string().min(1),
  /** Seconds the refresh token lives unless it is used (and rotated) first. */
  refresh_expires_in: z.number().int().positive(),
  device_id: z.uuid(),
  user_id: z.uuid(),
  email: z.string().min(1),
  /** The sync server as the device reaches it. */
  sync_url: z.string().min(1),
});
export type TokenEndpointResponse = z.infer<typeof TokenEndpointResponse>;

/** A 400 answer, shaped as OAuth 2.0 errors are (RFC 6749 §5.2). */
export const TokenEndpointError = z.object({
  error: z.enum(["invalid_request", "invalid_grant"]),
  error_description: z.string(),
  /**
   * An extension parameter (RFC 6749 §5.2 allows them): why the grant died, when a device acts
   * on it differently ("device_revoked": bind again, rather than retry).
   */
  reason: z.enum(["device_revoked"]).optional(),
});
export type TokenEndpointError = z.infer<typeof TokenEndpointError>;
