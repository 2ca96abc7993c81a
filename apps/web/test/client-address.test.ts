import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  clientAddressOf,
  installClientAddressHook,
  parseTrustedProxies,
} from "@/server/client-address";
import { clientIp } from "@/server/client-ip";
import { AuthThrottle } from "@/server/throttle";

/*
 * The per-address sign-in throttle behind a real HTTP server on port 0: the server's hook stamps
 * each request's client address, and a wrong password is counted against it, as the sign-in path
 * does (the email changes on every attempt, so only the per-address budget can stop it).
 */
const PER_IP = 5;
let server: Server;
let url: string;
let throttle: AuthThrottle;
let uninstall: () => void;

beforeAll(async () => {
  uninstall = installClientAddressHook(null);
  server = createServer((req: IncomingMessage, res) => {
    const ip = clientIp({
      get: (name) => {
        const value = req.headers[name];
        return typeof value === "string" ? value : null;
      },
    });
    const email = `${Math.random()}@example.test`;
    void (async () => {
      if (await throttle.signInBlocked(email, ip)) return res.writeHead(429).end(ip);
      await throttle.signInFailed(email, ip);
      res.writeHead(401).end(ip);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterEach(() => {
  installClientAddressHook(null);
});
afterAll(async () => {
  uninstall();
  await new Promise((resolve) => server.close(resolve));
});

function freshThrottle(): void {
  throttle = new AuthThrottle({
    signInFailuresPerEmail: { points: 5, durationSeconds: 300 },
    signInFailuresPerIp: { points: PER_IP, durationSeconds: 300 },
    signUpsPerIp: { points: 30, durationSeconds: 600 },
  });
}

async function attempt(forwardedFor: string): Promise<{ status: number; ip: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "x-forwarded-for": forwardedFor, "x-chorus-client-address": forwardedFor },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, ip: await response.text() };
}

describe("the sign-in throttle's client address", () => {
  it("rotating X-Forwarded-For does not bypass the per-address throttle by default", async () => {
    freshThrottle();
    const statuses: number[] = [];
    for (let i = 0; i < PER_IP + 3; i += 1) {
      const { status, ip } = await attempt(`198.51.100.${i + 1}`);
      expect(ip).toBe("127.0.0.1");
      statuses.push(status);
    }
    expect(statuses.slice(0, PER_IP)).toEqual(Array(PER_IP).fill(401));
    expect(statuses.slice(PER_IP)).toEqual(Array(3).fill(429));
  });

  it("a configured proxy's X-Forwarded-For is honoured", async () => {
    freshThrottle();
    installClientAddressHook(parseTrustedProxies("127.0.0.1"));
    // Clients behind the proxy each have their own budget...
    for (let i = 0; i < PER_IP + 3; i += 1) {
      expect(await attempt(`203.0.113.7, 198.51.100.${i + 1}`)).toEqual({
        status: 401,
        ip: `198.51.100.${i + 1}`,
      });
    }
    // ...and one of them is stopped at its own.
    const statuses: number[] = [];
    for (let i = 0; i < PER_IP + 1; i += 1) statuses.push((await attempt("192.0.2.50")).status);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe("clientAddressOf", () => {
  const proxies = parseTrustedProxies("10.0.0.0/8, 127.0.0.1");
  it("believes only what trusted proxies wrote, nearest first", () => {
    expect(clientAddressOf("192.0.2.1", "198.51.100.1", proxies)).toBe("192.0.2.1");
    expect(clientAddressOf("10.1.2.3", "198.51.100.1, 192.0.2.9, 10.0.0.5", proxies)).toBe(
      "192.0.2.9",
    );
    expect(clientAddressOf("::ffff:127.0.0.1", "not-an-ip", proxies)).toBe("127.0.0.1");
    expect(clientAddressOf("::ffff:192.0.2.1", undefined, null)).toBe("192.0.2.1");
  });
  it("refuses a setting that is not addresses or ranges", () => {
    expect(() => parseTrustedProxies("proxy.internal")).toThrow(/not an IP/);
    expect(() => parseTrustedProxies("10.0.0.0/33")).toThrow(/prefix/);
    expect(parseTrustedProxies(" ")).toBeNull();
  });
});
