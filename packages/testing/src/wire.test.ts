import { describe, expect, it } from "vitest";
import { WireAnswerReader, WireCallReader } from "./wire.js";

/** One WebSocket frame as RFC 6455 lays it out; a client's is masked. */
function frame(
  payload: string,
  options: { masked?: boolean; fin?: boolean; opcode?: number } = {},
) {
  const body = Buffer.from(payload);
  const { masked = false, fin = true, opcode = 1 } = options;
  const length = body.length;
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, (masked ? 0x80 : 0) | length])
      : length < 65_536
        ? Buffer.from([
            (fin ? 0x80 : 0) | opcode,
            (masked ? 0x80 : 0) | 126,
            length >> 8,
            length & 0xff,
          ])
        : Buffer.concat([
            Buffer.from([(fin ? 0x80 : 0) | opcode, (masked ? 0x80 : 0) | 127]),
            (() => {
              const size = Buffer.alloc(8);
              size.writeBigUInt64BE(BigInt(length));
              return size;
            })(),
          ]);
  if (!masked) return Buffer.concat([header, body]);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const hidden = Buffer.from(body.map((byte, i) => byte ^ (mask[i % 4] as number)));
  return Buffer.concat([header, mask, hidden]);
}

/** Feeds `bytes` one byte at a time (the worst split a TCP stream can make). */
function byteByByte<T>(bytes: Buffer, read: (chunk: Buffer) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...read(bytes.subarray(i, i + 1)));
  return out;
}

const upgrade = Buffer.from(
  "GET /trpc?connectionParams=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
);
const switched = Buffer.from(
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
);

describe("reading tRPC calls off a proxied connection", () => {
  it("reads calls and answers on a WebSocket: masked, fragmented, large, split anywhere", () => {
    const push = JSON.stringify({
      id: 7,
      method: "mutation",
      params: { path: "sync.push", input: { ops: [{ value: "x".repeat(70_000) }] } },
    });
    const half = Math.floor(push.length / 2);
    const client = Buffer.concat([
      upgrade,
      frame(JSON.stringify({ method: "connectionParams", data: { token: "t" } }), { masked: true }),
      frame("PING", { masked: true }),
      frame(push.slice(0, half), { masked: true, fin: false }),
      frame("", { masked: true, opcode: 9 }), // a ping between fragments
      frame(push.slice(half), { masked: true, opcode: 0 }),
      frame(
        JSON.stringify([
          { id: 8, method: "mutation", params: { path: "sync.ack", input: { lastSeenId: 41 } } },
          { id: 9, method: "subscription", params: { path: "sync.subscribe", input: {} } },
        ]),
        { masked: true },
      ),
    ]);
    const reader = new WireCallReader();
    const calls = byteByByte(client, (chunk) => reader.read(chunk));
    expect(calls.map((c) => [c.transport, c.path, c.id])).toEqual([
      ["ws", "sync.push", "7"],
      ["ws", "sync.ack", "8"],
      ["ws", "sync.subscribe", "9"],
    ]);
    expect(calls[1]?.input).toEqual({ lastSeenId: 41 });

    const server = Buffer.concat([
      switched,
      frame(JSON.stringify({ id: 9, result: { type: "started" } })),
      frame("PONG"),
      frame(JSON.stringify({ id: 7, result: { type: "data", data: { maxId: 3 } } })),
      frame(JSON.stringify({ id: 8, error: { message: "refused" } })),
    ]);
    const answers = new WireAnswerReader();
    expect(byteByByte(server, (chunk) => answers.read(chunk))).toEqual([
      { transport: "ws", id: "9", status: 200 },
      { transport: "ws", id: "7", status: 200 },
      { transport: "ws", id: "8", status: 500 },
    ]);
  });

  it("reads HTTP calls one after another on a keep-alive connection, and their answers", () => {
    const body = JSON.stringify({ ops: [{ operationId: "o" }] });
    const input = encodeURIComponent(JSON.stringify({ since: 3 }));
    const client = Buffer.from(
      `POST /trpc/sync.push HTTP/1.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
        `GET /trpc/sync.pull?input=${input} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const reader = new WireCallReader();
    const calls = byteByByte(client, (chunk) => reader.read(chunk));
    expect(calls).toEqual([
      { transport: "http", path: "sync.push", id: null, input: { ops: [{ operationId: "o" }] } },
      { transport: "http", path: "sync.pull", id: null, input: { since: 3 } },
    ]);
    const answers = new WireAnswerReader();
    const error = '{"error":{"message":"too large"}}';
    const server = Buffer.from(
      `HTTP/1.1 413 Payload Too Large\r\nContent-Length: ${error.length}\r\n\r\n${error}` +
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHTTP/\r\n0\r\n\r\n" +
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    );
    expect(byteByByte(server, (chunk) => answers.read(chunk))).toEqual([
      { transport: "http", id: null, status: 413 },
      { transport: "http", id: null, status: 200 },
      { transport: "http", id: null, status: 200 },
    ]);
  });
});
