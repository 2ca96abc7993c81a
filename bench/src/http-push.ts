import http from "node:http";
import type { OpInput } from "@chorus/protocol";

/**
 * sync.push over HTTP exactly as tRPC's httpLink sends it (no transformer: the body is the
 * input as JSON), on keep-alive connections. Raw node:http keeps the client's own cost small.
 */
export interface PushClient {
  push(token: string, ops: OpInput[]): Promise<{ maxId: number }>;
  close(): void;
}

export function createPushClient(port: number, maxSockets: number): PushClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    push(token, ops) {
      const body = JSON.stringify({ ops });
      return new Promise((resolve, reject) => {
        const request = http.request(
          {
            host: "127.0.0.1",
            port,
            path: "/trpc/sync.push",
            method: "POST",
            agent,
            timeout: 30_000,
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              const text = Buffer.concat(chunks).toString();
              if (response.statusCode !== 200) {
                reject(new Error(`push answered ${response.statusCode}: ${text.slice(0, 300)}`));
                return;
              }
              const parsed = JSON.parse(text) as { result: { data: { maxId: number } } };
              resolve({ maxId: parsed.result.data.maxId });
            });
            response.on("error", reject);
          },
        );
        request.on("timeout", () => request.destroy(new Error("push timed out after 30 s")));
        request.on("error", reject);
        request.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
