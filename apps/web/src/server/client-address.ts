import { type IncomingMessage, Server } from "node:http";
import { BlockList, isIP } from "node:net";

/*
 * The address a request came from, for the sign-in and sign-up throttles. The socket's peer is
 * the only address nobody can make up; `X-Forwarded-For` is whatever the sender wrote, unless the
 * sender is one of our own proxies. So: the peer, unless the peer is a configured trusted proxy
 * (TRUSTED_PROXIES, empty by default); then the nearest address in `X-Forwarded-For` that is not
 * one of our proxies (entries further left were written by the client and prove nothing).
 *
 * Route handlers and server actions never see the socket, so a hook on the HTTP server writes the
 * answer into CLIENT_ADDRESS_HEADER on every request before Next reads it, replacing whatever a
 * client sent under that name.
 */
export const CLIENT_ADDRESS_HEADER = "x-chorus-client-address";

/** Trusted proxies: IP addresses and CIDR ranges, comma-separated; empty trusts none. */
export function parseTrustedProxies(setting: string): BlockList | null {
  const entries = setting
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or a CIDR range`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new Error(`"${entry}" has a bad prefix length`);
    }
    list.addSubnet(address, bits, type);
  }
  return list;
}

/** "::ffff:1.2.3.4" (an IPv4 peer on a dual-stack socket) is 1.2.3.4. */
function normalise(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed;
}

function trusts(proxies: BlockList | null, address: string): boolean {
  const family = isIP(address);
  if (!proxies || family === 0) return false;
  return proxies.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The client's address, from the socket's peer and (only from trusted proxies) the header. */
export function clientAddressOf(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  proxies: BlockList | null,
): string {
  const socketPeer = peer ? normalise(peer) : "unknown";
  if (!trusts(proxies, socketPeer)) return socketPeer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map(normalise)
    .filter((hop) => isIP(hop) !== 0);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = hops[i] as string;
    if (!trusts(proxies, hop)) return hop;
  }
  return hops[0] ?? socketPeer;
}

const hook = globalThis as typeof globalThis & {
  chorusClientAddress?: { proxies: BlockList | null; uninstall: () => void };
};

/**
 * Makes every HTTP server of this process stamp CLIENT_ADDRESS_HEADER on each request it
 * receives (the web app's server is created by `next start`, out of our reach, hence the hook
 * on the prototype). Installing again only changes the trusted proxies. Returns an uninstall.
 */
export function installClientAddressHook(proxies: BlockList | null): () => void {
  if (hook.chorusClientAddress) {
    hook.chorusClientAddress.proxies = proxies;
    return hook.chorusClientAddress.uninstall;
  }
  const original = Server.prototype.emit;
  const state = {
    proxies,
    uninstall: () => {
      Server.prototype.emit = original;
      hook.chorusClientAddress = undefined;
    },
  };
  Server.prototype.emit = function emit(this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === "request") {
      const req = args[0] as IncomingMessage;
      req.headers[CLIENT_ADDRESS_HEADER] = clientAddressOf(
        req.socket?.remoteAddress,
        req.headers["x-forwarded-for"],
        state.proxies,
      );
    }
    return Reflect.apply(original, this, [event, ...args]) as boolean;
  } as typeof Server.prototype.emit;
  hook.chorusClientAddress = state;
  return state.uninstall;
}
