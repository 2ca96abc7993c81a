import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { initTRPC } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type RequestWithBody, readBody, sendInOneWrite, wantsStream } from "../src/http-body.js";

/*
 * http-body.ts leans on two things tRPC's node adapter does today. Neither is a promise of its
 * API, so these tests pin them: the day a tRPC upgrade changes either, they fail here instead of
 * the server quietly reading empty bodies or sending chunked answers.
 * 1. A string `req.body` is taken as the request body (the stream is not read again).
 * 2. A JSON answer is written with res.write/res.end, headers not flushed before the body, so
 *    sendInOneWrite can send it in one write with a content-length.
 */

const t = initTRPC.create();
const router = t.router({
  echo: t.procedure.input(z.object({ n: z.number() })).mutation(({ input }) => input),
  big: t.procedure.query(() => ({ text: "x".repeat(200_000) })),
});

let server: Server;
let url: string;
let patchedWrites = 0;

beforeAll(async () => {
  const handler = createHTTPHandler({
    router,
    basePath: "/trpc/",
    middleware(req, res, next) {
      if (!wantsStream(req)) {
        sendInOneWrite(res);
        const write = res.write;
        res.write = ((...args: Parameters<typeof write>) => {
          patchedWrites++;
          return write.apply(res, args);
        }) as typeof res.write;
      }
      if (req.method !== "POST") return next();
      // A header lets a test hand tRPC a body other than the one on the wire: the answer says
      // which one tRPC used.
      const override = req.headers["x-body-override"];
      if (typeof override === "string") {
        (req as RequestWithBody).body = override;
        return next();
      }
      readBody(req as RequestWithBody, 1024 * 1024).then(() => next(), next);
    },
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/trpc`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("what http-body.ts relies on in tRPC's node adapter", () => {
  it("takes a string req.body as the request body instead of reading the stream", async () => {
    const response = await fetch(`${url}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-body-override": '{"n":2}' },
      body: JSON.stringify({ n: 1 }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: { data: { n: 2 } } });
  });

  it("reads a body readBody stored, and answers a JSON call in one write with a content-length", async () => {
    const before = patchedWrites;
    const response = await fetch(`${url}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 7 }),
    });
    expect(await response.json()).toEqual({ result: { data: { n: 7 } } });
    expect(response.headers.get("transfer-encoding")).toBeNull();
    expect(response.headers.get("content-length")).not.toBeNull();
    // tRPC wrote through res.write (which sendInOneWrite holds back), not around it.
    expect(patchedWrites).toBeGreaterThan(before);
  });

  it("sends a large JSON answer whole, with its exact length", async () => {
    const response = await fetch(`${url}/big`);
    const text = await response.text();
    expect(Number(response.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    expect(JSON.parse(text).result.data.text).toHaveLength(200_000);
  });

  it("leaves a streamed answer (trpc-accept) alone: chunked, as the batch-stream link expects", async () => {
    const response = await fetch(`${url}/big?batch=1&input=${encodeURIComponent("{}")}`, {
      headers: { "trpc-accept": "application/jsonl" },
    });
    await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
  });
});
