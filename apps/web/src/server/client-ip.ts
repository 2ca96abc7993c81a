import { CLIENT_ADDRESS_HEADER } from "./client-address";

/**
 * The address a request came from, for throttling: what the server's hook stamped on the request
 * (client-address.ts). Without it (a request that arrived before the hook was installed) every
 * such request shares one "unknown" budget, which can only throttle more, never less.
 */
export function clientIp(headers: { get(name: string): string | null }): string {
  return headers.get(CLIENT_ADDRESS_HEADER) || "unknown";
}

/** The same for next-auth's plain header records. */
export function clientIpFromRecord(headers: Record<string, unknown> | undefined): string {
  return clientIp({
    get: (name) => {
      const value = headers?.[name];
      return typeof value === "string" ? value : null;
    },
  });
}
