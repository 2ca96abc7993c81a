/**
 * The address a request came from, for throttling. Next sets x-forwarded-for to the socket's
 * address when no proxy did; behind proxies that append to it, the last entry is the one the
 * nearest proxy saw (earlier entries are whatever the client claimed).
 */
export function clientIp(headers: { get(name: string): string | null }): string {
  const forwarded = headers.get("x-forwarded-for");
  const last = forwarded?.split(",").at(-1)?.trim();
  return last || headers.get("x-real-ip") || "unknown";
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
