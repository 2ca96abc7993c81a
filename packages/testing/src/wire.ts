/**
 * What a fault-injecting TCP proxy needs to know of the tRPC traffic it forwards: which call a
 * client made (its procedure path, its input, and over a WebSocket its message id) and when the
 * server starts answering one. One reader per direction of one connection; it understands
 * HTTP/1.1 requests and answers (one at a time, as tRPC's httpLink sends them) and, after a
 * `101 Switching Protocols`, WebSocket frames (masked or not, fragmented, split across chunks)
 * carrying tRPC's JSON messages. It only reads: the proxy forwards the bytes it was given.
 */

/** A call a client made. `id` is the WebSocket message id; null over HTTP. */
export interface WireCall {
  transport: "http" | "ws";
  path: string;
  id: string | null;
  input: unknown;
}

/** The start of a server's answer. Over HTTP `id` is null (the answer to the call in flight). */
export interface WireAnswer {
  transport: "http" | "ws";
  id: string | null;
  /** HTTP: the status code; WebSocket: 200 for a result, 500 for an error. */
  status: number;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** Reads the calls in the client-to-server direction of one connection. */
export class WireCallReader {
  private buffer = Buffer.alloc(0);
  private frames: FrameReader | null = null;

  /** The calls completed by this chunk, in order. */
  read(chunk: Buffer): WireCall[] {
    if (this.frames) return this.frames.read(chunk).flatMap(callsOf);
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const calls: WireCall[] = [];
    for (;;) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) return calls;
      const head = this.buffer.subarray(0, end).toString("latin1");
      const [method = "", target = ""] = head.split("\r\n")[0]?.split(" ") ?? [];
      if (/^upgrade:\s*websocket/im.test(head)) {
        this.frames = new FrameReader();
        const rest = this.buffer.subarray(end + HEADER_END.length);
        this.buffer = Buffer.alloc(0);
        return [...calls, ...this.frames.read(rest).flatMap(callsOf)];
      }
      const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      const total = end + HEADER_END.length + length;
      if (this.buffer.length < total) return calls;
      const body = this.buffer.subarray(end + HEADER_END.length, total).toString("utf8");
      this.buffer = this.buffer.subarray(total);
      const url = new URL(target, "http://proxy");
      if (!url.pathname.startsWith("/trpc/")) continue;
      const path = decodeURIComponent(url.pathname.slice("/trpc/".length));
      const raw = method === "GET" ? url.searchParams.get("input") : body;
      calls.push({ transport: "http", path, id: null, input: parseOrNull(raw) });
    }
  }
}

/** Reads the answers in the server-to-client direction of one connection. */
export class WireAnswerReader {
  private buffer = Buffer.alloc(0);
  private frames: FrameReader | null = null;
  /** Body bytes of the current HTTP answer still to come, or "chunked" until its last chunk. */
  private body: number | "chunked" = 0;

  /** The answers whose start this chunk completes (an HTTP status line and headers, a frame). */
  read(chunk: Buffer): WireAnswer[] {
    if (this.frames) return this.frames.read(chunk).flatMap(answersOf);
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const answers: WireAnswer[] = [];
    for (;;) {
      if (this.body === "chunked") {
        const last = this.buffer.indexOf(LAST_CHUNK);
        if (last < 0) return answers;
        this.buffer = this.buffer.subarray(last + LAST_CHUNK.length);
        this.body = 0;
      } else if (this.body > 0) {
        const skipped = Math.min(this.body, this.buffer.length);
        this.buffer = this.buffer.subarray(skipped);
        this.body -= skipped;
        if (this.body > 0) return answers;
      }
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) return answers;
      const head = this.buffer.subarray(0, end).toString("latin1");
      this.buffer = this.buffer.subarray(end + HEADER_END.length);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status === 101) {
        this.frames = new FrameReader();
        const rest = this.buffer;
        this.buffer = Buffer.alloc(0);
        return [...answers, ...this.frames.read(rest).flatMap(answersOf)];
      }
      if (/^transfer-encoding:\s*chunked/im.test(head)) this.body = "chunked";
      else this.body = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      answers.push({ transport: "http", id: null, status });
    }
  }
}

const LAST_CHUNK = Buffer.from("\r\n0\r\n\r\n");

function parseOrNull(text: string | null | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function messagesOf(text: string): Array<Record<string, unknown>> {
  if (text === "PING" || text === "PONG") return [];
  const parsed = parseOrNull(text);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.filter((m): m is Record<string, unknown> => typeof m === "object" && m !== null);
}

function callsOf(text: string): WireCall[] {
  return messagesOf(text).flatMap((message) => {
    const params = message.params as { path?: unknown; input?: unknown } | undefined;
    if (typeof params?.path !== "string" || message.id === undefined) return [];
    return [{ transport: "ws", path: params.path, id: String(message.id), input: params.input }];
  });
}

function answersOf(text: string): WireAnswer[] {
  return messagesOf(text).flatMap((message) => {
    if (message.id === undefined || message.id === null) return [];
    if (!("result" in message) && !("error" in message)) return [];
    return [{ transport: "ws", id: String(message.id), status: "error" in message ? 500 : 200 }];
  });
}

/** WebSocket frames (RFC 6455) to text messages. */
class FrameReader {
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];

  read(chunk: Buffer): string[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const messages: string[] = [];
    for (;;) {
      if (this.buffer.length < 2) return messages;
      const first = this.buffer[0] as number;
      const second = this.buffer[1] as number;
      let offset = 2;
      let length = second & 0x7f;
      if (length === 126) {
        if (this.buffer.length < 4) return messages;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return messages;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (second & 0x80) !== 0;
      const mask = masked ? this.buffer.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (this.buffer.length < offset + length) return messages;
      const payload = Buffer.from(this.buffer.subarray(offset, offset + length));
      this.buffer = this.buffer.subarray(offset + length);
      if (mask)
        for (let i = 0; i < payload.length; i++)
          payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
      const opcode = first & 0x0f;
      if (opcode !== 0 && opcode !== 1 && opcode !== 2) continue; // close, ping, pong
      this.fragments.push(payload);
      if ((first & 0x80) === 0) continue; // more fragments follow
      messages.push(Buffer.concat(this.fragments).toString("utf8"));
      this.fragments = [];
    }
  }
}
